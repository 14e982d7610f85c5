"""Loading a rebuilt generation into Redis after its switch, while PostgreSQL serves it.

Redis runs on one thread, and writing a whole generation's documents and index entries into it
took longer than the rest of a rebuild together (on two cores, a rebuild that wrote Redis as it
loaded ran at about half the speed of one that did not). So a rebuild switches as soon as the
generation's PostgreSQL tables have caught up, and fills Redis after:

    1. At the switch, under the projection's live lock (`rebuild`): whatever an abandoned try
       left of the generation in Redis goes, the rebuild takes a lease on loading it
       (`readmodels.keys.warming_key`, expiring), and Redis readers are pointed at it. It has no
       applied position yet, so they read PostgreSQL (`query_api.redis_source`); the old
       generation's keys go at once.
    2. While the lease holds, the live runner writes the projection's PostgreSQL rows only (as
       when Redis is down) and leaves the generation alone (`live`): no reload of its own.
    3. The rebuild reads the generation's rows and its checkpoint in one REPEATABLE READ
       snapshot (rows and checkpoint move in one transaction, so the rows are the generation
       exactly as of that checkpoint) and writes them into Redis, every call checking that the
       lease still holds; a task keeps pushing the lease's expiry back meanwhile. Then one
       script sets the applied position at the snapshot's checkpoint and lets the lease go.
    4. The live runner's next catch-up finds Redis behind PostgreSQL by what was written during
       the load, and replays that into Redis, as after an outage.

A rebuild killed or stalled past the lease's expiry leaves the generation to the live runner,
which then reloads it from PostgreSQL as it does a generation Redis lost; a write under a lease
that expired touches nothing (`redis_sink.LeaseLostError`). The price of the order: reads of the
projection go to PostgreSQL for as long as the load takes, and the snapshot holds PostgreSQL's
oldest visible transaction back for that long.

The copy itself (`copy_generation`) is also what the live runner reloads a lost generation with.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Self

import psycopg

from eventstore import EventStoreError
from orders.redis_client import REDIS_FAILURES
from projector import checkpoints, pg_sink
from projector.engine import Engine
from projector.redis_sink import Lease, LeaseLostError, RedisSink
from readmodels.schema import Projection

log = logging.getLogger("projector.warming")

LEASE_MILLISECONDS = 15_000  # how long a rebuild that stopped answering keeps the live runner off
RENEW_SECONDS = 2.0  # how often a load under way pushes its lease's expiry back
IN_FLIGHT = 3  # chunks being written at once


@dataclass(frozen=True, slots=True)
class Warming:
    """A generation Redis readers are pointed at, to be loaded under `lease`."""

    projection: Projection
    generation: int
    lease: Lease


async def point_readers(
    sink: RedisSink, projection: Projection, generation: int, replaced: int
) -> Warming | None:
    """Step 1: the caller holds the projection's live lock and has just switched PostgreSQL
    from generation `replaced` to `generation`. None: Redis failed on the way, and the live
    runner reloads the generation and points readers at it once Redis answers."""
    try:
        await sink.drop([(projection, generation)])
        lease = await sink.take_lease(
            projection, generation, secrets.token_hex(8), LEASE_MILLISECONDS
        )
        before = await sink.promote(projection, generation)  # 0: readers read 1, by default
        old = {replaced, before or 1} - {generation}
        await sink.drop([(projection, g) for g in sorted(old)])
    except REDIS_FAILURES as e:
        log.warning("Redis readers of %s not switched yet (%s)", projection.name, e)
        return None
    return Warming(projection, generation, lease)


async def warm(engine: Engine, warmings: Sequence[Warming]) -> set[str]:
    """Step 3, for each generation in turn (Redis has one thread), while every lease is renewed.
    Returns the projections whose Redis documents are loaded and marked applied; one that
    failed (Redis or PostgreSQL down, the lease lost) is left to the live runner."""
    if engine.sink is None or not warmings:
        return set()
    sink, warmed = engine.sink, set[str]()
    async with _renewing(sink, [w.lease for w in warmings]):
        for w in warmings:
            try:
                if await _load(engine, sink, w):
                    warmed.add(w.projection.name)
            except (LeaseLostError, EventStoreError, *REDIS_FAILURES) as e:
                # the projection is switched either way: its Redis documents are the live
                # runner's to load once the lease expires, as after any loss of them
                log.warning(
                    "Redis load of %s stopped (%s); the live runner reloads it",
                    w.projection.name, e,
                )  # fmt: skip
    return warmed


async def _load(engine: Engine, sink: RedisSink, w: Warming) -> bool:
    """One generation's rows, as of the checkpoint read in the same snapshot. A few chunks are
    in flight at once, so that Redis runs one while this process reads and packs the next (a
    bulk load writes each document once, so their order does not matter)."""
    async with engine.store.connection() as conn, conn.transaction():
        await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        checkpoint = await checkpoints.read_live(conn, w.projection.name)
        if checkpoint.generation != w.generation:  # another rebuild switched it since
            return False
        loaded = await copy_generation(conn, sink, w.projection, w.generation, lease=w.lease)
    marked = await sink.mark_applied_under(w.lease, w.projection, w.generation, checkpoint.position)
    if not marked:
        raise LeaseLostError("the lease expired before the applied position was set")
    log.info(
        "%d Redis documents of %s g%d loaded as of %d",
        loaded, w.projection.name, w.generation, checkpoint.position,
    )  # fmt: skip
    return True


async def copy_generation(
    conn: psycopg.AsyncConnection[Any],
    sink: RedisSink,
    projection: Projection,
    generation: int,
    *,
    lease: Lease | None = None,
) -> int:
    """Bulk-write a generation's PostgreSQL rows into its Redis keys (known to be empty), as
    the transaction `conn` is in sees them: a rebuild's load (under its lease) and the live
    runner's reload (under the projection's lock) alike. Returns how many rows went."""
    loaded = 0
    async with _InFlight(IN_FLIGHT) as writes:
        for table in projection.tables:
            async for rows in pg_sink.read_generation(conn, table, generation):
                await writes.start(sink.load(generation, table, rows, lease=lease))
                loaded += len(rows)
        await writes.finished()
    return loaded


class _InFlight:
    """At most `limit` writes running at once; the first to fail fails the whole, and leaving
    the block early cancels those still running."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._running: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_: object) -> None:
        for task in self._running:
            task.cancel()
        await asyncio.gather(*self._running, return_exceptions=True)

    async def start(self, write: Coroutine[Any, Any, None]) -> None:
        while len(self._running) >= self._limit:
            await self._one_done()
        self._running.add(asyncio.create_task(write))

    async def finished(self) -> None:
        while self._running:
            await self._one_done()

    async def _one_done(self) -> None:
        done, self._running = await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()  # raises what the write raised


@contextlib.asynccontextmanager
async def _renewing(sink: RedisSink, leases: Sequence[Lease]) -> AsyncIterator[None]:
    """Keep `leases` from expiring while the block runs (those already lost stay lost)."""

    async def renew() -> None:
        held = list(leases)
        while held:
            await asyncio.sleep(RENEW_SECONDS)
            try:
                held = [lease for lease in held if await sink.renew(lease, LEASE_MILLISECONDS)]
            except REDIS_FAILURES as e:  # the writes fail too, and say so
                log.warning("Redis lease not renewed (%s)", e)

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        await asyncio.gather(renewing, return_exceptions=True)

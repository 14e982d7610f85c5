"""`orders bench capacity`: only the inputs of the capacity model (docs/capacity.md).

Here (also rows of `orders bench eventstore`): the sequencer's rate beside N appenders on
distinct streams (one event each, no contention), looping as the projector's does, against the
rate they append at in the same step; what each append costs PostgreSQL (CPU, WAL bytes) with
its sequencing included; and the single sequencer's ceiling on a backlog, with its CPU per
event. Then, on a platform of its own, CPU per read (`bench_api.cpu_per_read`) and CPU and WAL
per command (`bench_commands.cpu_per_command`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from redis.asyncio import Redis

from eventstore import EventStore, Expect, NewEvent, StreamAppend
from loadtest import bench_api, bench_commands, bench_eventstore, bench_projector, generators
from loadtest.bench_eventstore import PAYLOAD, _drive
from loadtest.meter import Meter
from loadtest.platform import Platform
from loadtest.stats import Row
from projector import live
from projector.engine import open_engine

APPENDERS = 32
CATCH_UP_SECONDS = 600.0  # a backlog not worked off by then is a failure, not a figure
SEQUENCER_PAUSE = 0.001  # between catch-ups that found nothing: the live loop is woken instead


def _appender(store: EventStore) -> Callable[[int, int], Awaitable[None]]:
    """One event per append, each writer on a stream of its own (no version conflicts)."""
    tag = f"cap{time.time_ns()}"

    async def append(w: int, n: int) -> None:
        expected = Expect.NO_STREAM if n == 0 else n
        await store.append(
            [StreamAppend(f"{tag}-{w}", expected, [NewEvent("StockReserved", PAYLOAD)])]
        )

    return append


async def sequencer(url: str, data_dir: Path, seconds: float) -> list[Row]:
    """First APPENDERS loops append while one task sequences, as the projector's loop does: the
    feed's growth vs the events appended says whether the single sequencer keeps up (ratio ~1)
    or holds the writers back (< 1); that step's PostgreSQL CPU and WAL per append, sequencing
    included. Then the sequencer's ceiling: the appenders alone leave a backlog, which one
    sequencer (the live batch size) works off, timed, with its CPU per event on each side."""
    pool = APPENDERS + 1
    async with (
        await EventStore.open(url, min_size=pool, max_size=pool) as store,
        Meter(None, data_dir, url) as meter,
    ):

        async def follow(stop: asyncio.Event) -> None:
            while not stop.is_set():
                if not await store.sequence():
                    await asyncio.sleep(SEQUENCER_PAUSE)

        await store.sequence()  # what earlier steps left: not this step's work
        before = await meter.reading()
        stop = asyncio.Event()
        loop = asyncio.create_task(follow(stop))
        rate, latencies = await _drive(APPENDERS, seconds, _appender(store))
        stop.set()
        await loop
        sequenced = (await store.feed_head()).position - before.head
        behind = (await store.feed_status()).pending
        await store.sequence()  # the rest, so the cost covers every append's sequencing
        cost = await meter.cost(before, len(latencies))

        alone, _ = await _drive(APPENDERS, seconds, _appender(store))
        backlog = (await store.feed_status()).pending
        before = await meter.reading()
        start = time.perf_counter()
        done = await store.sequence()
        ceiling = done / (time.perf_counter() - start)
        per_event = await meter.cost(before, done)
    assert done == backlog, (done, backlog)
    elapsed = len(latencies) / rate if rate else seconds
    appended = f"appended, {APPENDERS} writers, 1 event each"
    return [
        Row(f"sequencer beside {APPENDERS} appenders ({behind:,} behind at the end)",
            sequenced / elapsed, "events/s", None, None, appended, rate),
        Row(f"PostgreSQL CPU per append, sequenced ({APPENDERS} writers, 1 event;"
            f" appender {cost.driver_ms:.2f} ms)", cost.cpu_ms["postgresql"], "ms", None, None,
            "", None),
        Row(f"WAL per append, sequenced ({APPENDERS} writers, 1 event)", cost.wal_bytes, "bytes",
            None, None, "", None),
        Row(f"sequencer ceiling ({done:,} events backlog; CPU per event: postgresql"
            f" {per_event.cpu_ms['postgresql']:.3f} ms + sequencer {per_event.driver_ms:.3f} ms)",
            ceiling, "events/s", None, None, appended, alone),
    ]  # fmt: skip


async def projector_catch_up(
    database_url: str, redis_url: str, data_dir: Path, events: int
) -> list[Row]:
    """One projector process catching every projection up with a backlog of a realistic shop's
    `events`, through the live path (`live.follow`: full LIVE_BATCH batches, one runner holding
    every projection's lock): the single writer's ceiling, and its CPU per event on each side."""
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    engine = await open_engine(
        database_url, redis_url, master=None, application_name="bench-capacity-projector"
    )
    try:
        head = await bench_projector.write_events(engine.store, events)
        async with Meter(None, data_dir, database_url) as meter:
            before = await meter.reading()
            start = time.perf_counter()
            await live.follow(engine, budget_seconds=CATCH_UP_SECONDS)
            rate = head / (time.perf_counter() - start)
            cost = await meter.cost(before, head, settle=True)
    finally:
        await engine.close()
    servers = cost.parts("command-api", "query-api", "projector", digits=3)
    return [
        Row(f"projector catch-up, 1 process, every projection ({head:,} events;"
            f" CPU per event: projector {cost.driver_ms:.3f} + {servers} ms)",
            rate, "events/s", None, None, "", None),
    ]  # fmt: skip


def run(  # noqa: PLR0917 - the suite's knobs, passed through as `orders bench` got them
    data_dir: Path,
    database_url: str,
    redis_url: str,
    seconds: float,
    events: int,
    generator: generators.Generator,
) -> list[Row]:
    """The capacity suite: the sequencer and the projector on fresh databases of the data
    folder's servers, then reads and commands on a platform of its own."""
    url = bench_eventstore.fresh_database(database_url, "orders_bench_capacity")
    rows = asyncio.run(sequencer(url, data_dir, seconds))
    url = bench_eventstore.fresh_database(database_url, "orders_bench_capacity_projector")
    redis = bench_projector.own_redis_db(redis_url)
    rows += asyncio.run(projector_catch_up(url, redis, data_dir, events))
    platform = Platform(data_dir / "capacity-platform")
    platform.wipe()
    with platform:
        bench_api.seed(platform)
        rows += asyncio.run(bench_api.cpu_per_read(platform, seconds, generator))
        rows += asyncio.run(bench_commands.cpu_per_command(platform, seconds))
        rows += asyncio.run(bench_api.cpu_per_read(platform, seconds, generator, redis_down=True))
    return rows

"""What a poison event costs (`orders bench --suite poison`; also in `projector` and `all`).

    1. The healthy path: a live catch-up of a shop's events in small batches (100 events, so
       checkpoint moves weigh as much as they ever do), PostgreSQL only, with the trigger that
       deletes a projection's failure once its checkpoint passes the event, against the same
       catch-up with that trigger disabled.
    2. The failure path: finding the event that cannot be read in a batch (a ProductCreated of
       the wrong shape, as a bad upcaster leaves), last of a rebuild's batch and of a live one
       (the worst place: the search doubles up to it, then halves), against reading and folding
       the same batch without it once.

Every figure is events/s; the ratios are what to read.
"""

from __future__ import annotations

import logging
import time

from eventstore import EventStore, Expect, NewEvent, StreamAppend
from loadtest.bench_projector import write_events
from loadtest.stats import Row
from projector import live, poison
from projector.engine import REBUILD_BATCH, open_engine
from projector.feed import read_batch
from projector.states import StreamCache, advance
from readmodels.schema import PROJECTIONS

log = logging.getLogger("loadtest.bench_poison")

CATCH_UP_BATCH = 100
LIVE_BATCH = 1000
TRIGGER = "projection_checkpoints_failure_passed"
# the best of three each way, in an order where neither always comes first (caches, autovacuum)
ROUNDS = (False, True, True, False, False, True)
PRODUCTS = next(p for p in PROJECTIONS if p.name == "products")


async def measure(database_url: str, events: int) -> list[Row]:
    """`database_url`: a fresh, migrated database of the benchmark's own."""
    engine = await open_engine(database_url, None, master=None, application_name="bench-poison")
    try:
        head = await write_events(engine.store, events)
        engine.live_batch = CATCH_UP_BATCH
        timings: dict[bool, float] = {}
        for enabled in ROUNDS:
            await _reset(engine.store, trigger=enabled)
            began = time.perf_counter()
            await live.follow(engine, budget_seconds=3600)
            seconds = time.perf_counter() - began
            timings[enabled] = min(timings.get(enabled, seconds), seconds)
        await _reset(engine.store, trigger=True)
        rows = [
            Row(
                f"live catch-up, {head:,} events in batches of {CATCH_UP_BATCH}, PostgreSQL"
                " only, with the failure-clearing trigger",
                head / timings[True], "events/s", None, None,
                "the same without the trigger", head / timings[False],
            ),
        ]  # fmt: skip
        bad = await _poison(engine.store)
        for name, limit in (("a rebuild's", REBUILD_BATCH), ("a live", LIVE_BATCH)):
            rows.append(await _locating(engine.store, bad, limit, name))
        return rows
    finally:
        await engine.close()


async def _reset(store: EventStore, *, trigger: bool) -> None:
    """Every projection back to the start of the feed, its rows gone."""
    async with store.connection() as conn, conn.transaction():
        state = "ENABLE" if trigger else "DISABLE"
        await conn.execute(f"ALTER TABLE projection_checkpoints {state} TRIGGER {TRIGGER}")
        for projection in PROJECTIONS:
            for table in projection.tables:
                await conn.execute(f"TRUNCATE {table.pg_table}")
        await conn.execute("UPDATE projection_checkpoints SET position = 0, feed_hash = NULL")


async def _poison(store: EventStore) -> int:
    """Append an event no code can decode; its feed position."""
    result = await store.append(
        [StreamAppend("product-999999999", Expect.NO_STREAM, [NewEvent("ProductCreated", {})])]
    )
    await store.sequence()
    position = await store.feed_position_of(result.global_positions[0])
    assert position is not None, "sequenced above"
    return position


async def _locating(store: EventStore, bad: int, limit: int, name: str) -> Row:
    """The poison last of a batch of `limit` product events (or of all there are)."""
    before = await store.read_feed_identities(
        0, bad - 1, stream_types=(PRODUCTS.stream_type,), limit=10**9
    )
    start = 0 if len(before) < limit else before[-limit].feed_position
    size = len([e for e in before if e.feed_position > start]) + 1
    began = time.perf_counter()
    found = await poison.locate(store, PRODUCTS, start, bad, limit)
    locating = time.perf_counter() - began
    assert found is not None, "the event appended cannot be decoded"
    assert found.position == bad, (found.position, bad)
    began = time.perf_counter()
    batch = await read_batch(store, start, bad - 1, stream_types=("product",), limit=limit)
    await advance(store, PRODUCTS, StreamCache(limit), batch.events, start=start, end=batch.end)
    once = time.perf_counter() - began
    log.info("poison located in %s batch of %d events in %.3f s", name, size, locating)
    return Row(
        f"locating an undecodable event, last of {name} batch ({size:,} product events)",
        size / locating, "events/s", None, None,
        "reading and folding that batch once", size / once,
    )  # fmt: skip

"""The fixed cost of a wake-up, in process: after each single-event write to a shop's feed,
one live catch-up as the follower runs it (`live.follow`: sequence, lock, check, apply, move
every checkpoint, mark Redis) timed and charged its CPU. What it is compared with, in the same
loop: the append of that write, through the same event store and pool. Both are given as
operations per CPU second of this process (its PostgreSQL and Redis work is theirs, not
counted), with the catch-up's wall time as p50/p99: what a write waits for beyond its
wake-up's journey."""

from __future__ import annotations

import time

from domain import codec
from domain.client import ClientCreated
from eventstore import Expect, NewEvent, StreamAppend
from loadtest.bench_projector import write_events
from loadtest.stats import Row, percentile_ms
from projector import live
from projector.engine import open_engine

SHOP_EVENTS = 5_000
WARM_UP = 20
FIRST_ID = 10**9  # clients of the loop, past the shop's


async def measure(database_url: str, redis_url: str, writes: int = 300) -> list[Row]:
    engine = await open_engine(database_url, redis_url, master=None, application_name="bench")
    try:
        if engine.redis is not None:
            await engine.redis.flushdb()
        await write_events(engine.store, SHOP_EVENTS)
        await live.follow(engine)
        appends, catch_ups, walls = 0.0, 0.0, []
        for n in range(WARM_UP + writes):
            type_name, version, data = codec.encode(
                ClientCreated(FIRST_ID + n, "Ada", "Lovelace", f"ada{n}@example.com", None)
            )
            event = NewEvent(type_name, data, version)
            cpu = time.process_time()
            await engine.store.append(
                [StreamAppend(f"client-{FIRST_ID + n}", Expect.NO_STREAM, [event])]
            )
            appended, start = time.process_time(), time.perf_counter()
            await live.follow(engine, look_again=False)  # as the follower, woken by each write
            if n >= WARM_UP:
                walls.append(time.perf_counter() - start)
                appends += appended - cpu
                catch_ups += time.process_time() - appended
    finally:
        await engine.close()
    return [
        Row(
            f"catch-up after a one-event write ({writes} in turn, in process)",
            writes / catch_ups, "per CPU s", percentile_ms(walls, 50), percentile_ms(walls, 99),
            "its append", writes / appends,
        )
    ]  # fmt: skip

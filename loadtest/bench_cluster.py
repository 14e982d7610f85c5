"""`orders bench cluster`: the read side on a local three-master Redis Cluster, against one Redis
measured in the same run on the same events.

Two rows, each a ratio to its one-Redis baseline:
- a rebuild of every projection until Redis holds them all (PostgreSQL rows, then Redis
  documents bulk-loaded through the projector's write script, `projector.warming`; a full
  generation is live before each), events/s;
- reads through the query API's Redis source (`RedisSource`, coalesced as in a worker: half
  documents by id, half pages of 20 products), 64 in flight, reads/s. Without HTTP, so the
  ratio is the Redis side's own: on the cluster a turn's reads go out as one MGET or script run
  per slot, to each node they touch.

The cluster runs on this machine, like the single Redis: it shows what the client and the
slot-wise batching cost, not what three hosts would add.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from pathlib import Path
from typing import Any

from loadtest.bench_projector import measure_rebuild, write_events
from loadtest.stats import Row
from orders.rediscluster import start_cluster
from projector import rebuild
from projector.engine import Engine, open_engine
from query_api.reads import Page
from query_api.redis_source import RedisSource
from readmodels.schema import PROJECTIONS, TABLES, live_generation_key

log = logging.getLogger("loadtest.bench_cluster")

IN_FLIGHT = 64
PAGE = 20


def run(database_url: str, redis_url: str, folder: Path, events: int, seconds: float) -> list[Row]:
    cluster = start_cluster(folder)
    try:
        return asyncio.run(measure(database_url, redis_url, cluster.url, events, seconds))
    finally:
        cluster.stop()


async def measure(
    database_url: str, redis_url: str, cluster_url: str, events: int, seconds: float
) -> list[Row]:
    engines = {
        name: await open_engine(database_url, url, master=None, application_name="bench-cluster")
        for name, url in (("one", redis_url), ("cluster", cluster_url))
    }
    try:
        for engine in engines.values():
            assert engine.redis is not None
            await engine.redis.flushdb()
        head = await write_events(engines["one"].store, events)
        # untimed: a full live generation, so each timed rebuild replaces one, as in production
        await rebuild.rebuild(engines["one"], PROJECTIONS, progress=False)
        rebuilt = {name: head / await _until_loaded(e) for name, e in engines.items()}
        reads = {name: await _reads_per_second(e, seconds) for name, e in engines.items()}
    finally:
        for engine in engines.values():
            await engine.close()
    base = "the same on one Redis"
    return [
        Row(f"rebuild of every projection to a 3-master Redis Cluster ({head:,} events)",
            rebuilt["cluster"], "events/s", None, None, base, rebuilt["one"]),
        Row(f"Redis reads from a 3-master Redis Cluster (ids and pages of {PAGE}, "
            f"{IN_FLIGHT} in flight)", reads["cluster"], "reads/s", None, None, base, reads["one"]),
    ]  # fmt: skip


async def _until_loaded(engine: Engine) -> float:
    """Seconds a rebuild of every projection takes until Redis holds them all."""
    *_, rebuilt = await measure_rebuild(engine)
    return rebuilt[0].warmed_seconds


async def _reads_per_second(engine: Engine, seconds: float) -> float:
    assert engine.redis is not None
    table = TABLES["products"]
    raw: Any = await engine.redis.get(live_generation_key("products"))
    generation = 1 if raw is None else int(raw)
    held: list[Any] = await engine.redis.hkeys(f"{table.redis_prefix(generation)}docs")
    ids = [int(i) for i in held]
    source = RedisSource(engine.redis)
    rnd = random.Random(7)
    done = missed = 0
    deadline = time.monotonic() + seconds

    async def reader() -> None:
        nonlocal done, missed
        while time.monotonic() < deadline:
            if rnd.random() < 0.5:  # noqa: PLR2004 - half and half
                read = await source.one(table, rnd.choice(ids))
            else:
                read = await source.page(Page(table, rnd.randrange(len(ids) - PAGE), PAGE))
            done += 1
            missed += read is None

    start = time.perf_counter()
    await asyncio.gather(*(reader() for _ in range(IN_FLIGHT)))
    elapsed = time.perf_counter() - start
    if missed:  # each would have gone to PostgreSQL: the figure would not be Redis's
        raise RuntimeError(f"{missed} of {done} reads missed Redis")
    return done / elapsed

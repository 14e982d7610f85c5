"""Rebuilding without downtime, and the restore guard that demands a rebuild."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from dataclasses import replace
from subprocess import DEVNULL
from typing import Any

import pytest
from redis.asyncio import Redis

from loadtest.faults import children, gone
from orders.embedded import Endpoints
from projector import live, loaders, pg_sink, rebuild
from projector.engine import Engine, open_engine
from projector.errors import FeedBehindCheckpointError, ProjectionsRefusedError
from readmodels.schema import PROJECTIONS, TABLES, applied_key, live_generation_key
from tests.keys import MASTER
from tests.projection import (
    PROJECTOR_REDIS_DB,
    Scenario,
    live_generations,
    postgres_docs,
    redis_docs,
    with_redis_db,
    worker_env,
)
from tests.shop import Shop

BY_NAME = {p.name: p for p in PROJECTIONS}


async def _read_postgres(engine: Engine, table: str, id_key: int) -> str | None:
    """One read as the query API makes it: generation and row in one statement."""
    projection = next(p.name for p in PROJECTIONS if TABLES[table] in p.tables)
    async with engine.store.pool.connection() as conn:
        cur = await conn.execute(
            f"SELECT r.doc FROM projection_checkpoints c JOIN rm_{table} r"
            " ON r.generation = c.generation AND r.id_key = %s WHERE c.name = %s",
            (id_key, projection),
        )
        row = await cur.fetchone()
    return None if row is None else str(row[0])


async def _read_redis(redis: Redis, table: str, id_key: int) -> bytes | bool | None:
    """As the query API reads Redis: the live generation, its applied position, the document.
    False: Redis says "not mine to answer" (no applied position), which sends readers on."""
    projection = next(p.name for p in PROJECTIONS if TABLES[table] in p.tables)
    raw = await redis.get(live_generation_key(projection))
    generation = 1 if raw is None else int(raw)
    async with redis.pipeline(transaction=True) as pipe:  # both at once, as its script reads
        pipe.get(applied_key(projection, generation))
        pipe.hget(f"{TABLES[table].redis_prefix(generation)}docs", str(id_key))
        applied, doc = await pipe.execute()
    return False if applied is None else doc


async def test_a_rebuild_while_writes_go_on_keeps_answering_and_loses_no_event(
    shop: Shop, engine: Engine, redis_url: str, database_url: str
) -> None:
    scenario = Scenario(shop)
    await scenario.everything(2)
    await live.follow(engine)
    known = [(table, min(scenario.ids[table])) for table in ("categories", "products", "orders")]
    misses: list[str] = []
    stop = asyncio.Event()

    async def write() -> None:
        while not stop.is_set():
            await scenario.round()

    async def follow() -> None:  # the live runner, as the worker's sweep runs it
        while not stop.is_set():
            await live.follow(engine)
            await asyncio.sleep(0.01)

    async def read() -> None:
        assert engine.redis is not None
        while not stop.is_set():
            for table, id_key in known:
                if await _read_postgres(engine, table, id_key) is None:
                    misses.append(f"postgres {table} {id_key}")
                if await _read_redis(engine.redis, table, id_key) is None:
                    misses.append(f"redis {table} {id_key}")
            await asyncio.sleep(0.005)

    head_before = (await engine.store.feed_status()).head
    rebuilder = await open_engine(database_url, redis_url, master=MASTER)
    rebuilder.rebuild_batch = 50  # many batches, so writes land during the replay
    tasks = [asyncio.create_task(f()) for f in (write, follow, read)]
    try:
        rebuilt = await rebuild.rebuild(rebuilder, PROJECTIONS, progress=False)
        await asyncio.sleep(0.3)  # some writes after the switch too
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await rebuilder.close()
    await live.follow(engine)

    assert [r.generation for r in rebuilt] == [2] * len(PROJECTIONS)
    assert min(r.position for r in rebuilt) > head_before  # writes landed during the rebuild
    assert await live_generations(engine.store) == {p.name: 2 for p in PROJECTIONS}
    expected = await scenario.expected()
    assert engine.redis is not None
    assert await postgres_docs(engine.store) == expected
    assert await redis_docs(engine.redis) == expected
    assert misses == []
    assert await engine.redis.keys("rm:{*:g1}:*") == []  # the old generation is gone
    async with engine.store.pool.connection() as conn:
        cur = await conn.execute("SELECT count(*) FROM rm_orders WHERE generation = 1")
        assert await cur.fetchone() == (0,)


async def test_a_rebuild_killed_in_its_load_serves_the_old_generation_then_loads_again(
    shop: Shop, engine: Engine
) -> None:
    scenario = Scenario(shop)
    await scenario.everything(2)
    await live.follow(engine)
    before = await postgres_docs(engine.store)
    in_process = replace(engine, opened=None)  # loads in this process, where a kill is simple
    copy_rows, copies = pg_sink.copy_rows, 0

    class Killed(Exception):  # noqa: N818 - it stands for the signal
        pass

    async def killed_at_the_third(*args: Any) -> None:
        nonlocal copies
        copies += 1
        if copies == 3:
            raise Killed  # the load stops here: what it copied stays, unattached
        await copy_rows(*args)

    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.suppress(Killed),
    ):
        patch.setattr(pg_sink, "copy_rows", killed_at_the_third)
        patch.setattr(loaders, "plan", lambda *_: loaders.Plan(1, 5))  # many small chunks
        await rebuild.rebuild(in_process, [BY_NAME["orders"]], progress=False)
    async with engine.store.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT generation, position, events_loaded FROM projection_rebuilds"
        )
        (generation, position, loaded), *_ = await cur.fetchall()
        cur = await conn.execute("SELECT count(*) FROM rm_orders WHERE generation = 2")
        served = await cur.fetchone()
    assert (generation, position) == (2, 0)  # nothing to resume from: it loads again
    assert loaded > 0
    assert served == (0,)  # the half-loaded table is not attached: no reader can see it
    assert await postgres_docs(engine.store) == before

    rebuilt = await rebuild.rebuild(engine, [BY_NAME["orders"]], progress=False)

    assert (await live_generations(engine.store))["orders"] == 2
    assert await postgres_docs(engine.store) == await scenario.expected()
    assert rebuilt[0].loader_rss is not None  # loaded in a process of its own


async def test_projections_cut_into_parts_among_several_loaders_load_as_one(
    shop: Shop, engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Each projection is cut into runs of streams handed out to loader processes (three here,
    whatever this machine's cores): the parts of one projection land in the same generation,
    which is attached once all are in, and the documents are those of the story."""
    assert engine.opened is not None  # loader processes
    scenario = Scenario(shop)
    await scenario.everything(3)
    await live.follow(engine)
    monkeypatch.setenv("ORDERS_REBUILD_WORKERS", "3")
    caplog.set_level("INFO", logger="projector.loaders")

    rebuilt = await rebuild.rebuild(engine, PROJECTIONS, progress=False)

    (told,) = [r.getMessage() for r in caplog.records if " parts, " in r.getMessage()]
    parts, loaders_started = (int(told.split()[i]) for i in (0, 2))
    assert parts > len(PROJECTIONS)  # some projection came in several parts
    assert loaders_started == 3
    assert [r.generation for r in rebuilt] == [2] * len(PROJECTIONS)
    expected = await scenario.expected()
    assert engine.redis is not None
    assert await postgres_docs(engine.store) == expected
    assert await redis_docs(engine.redis) == expected


REBUILD = [sys.executable, "-m", "launch.cli", "projections", "rebuild"]


LOADERS = 3  # more than this machine may have cores: several loaders, each with parts queued


def _killed_among_its_loaders(env: dict[str, str]) -> list[int]:
    """Start a rebuild, SIGKILL it once its loaders run; their pids."""
    rebuilding = subprocess.Popen(REBUILD, env=env, stdout=DEVNULL, stderr=DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while len(started := children(rebuilding.pid)) < LOADERS:
            assert rebuilding.poll() is None, "the rebuild ended before its loaders were seen"
            assert time.monotonic() < deadline, f"only {len(started)} loaders after 60 s"
            time.sleep(0.02)
        rebuilding.kill()
        rebuilding.wait(10)
    finally:
        if rebuilding.poll() is None:
            rebuilding.kill()
            rebuilding.wait()
    return started


async def test_a_killed_rebuild_takes_its_loader_processes_with_it(
    shop: Shop, database_url: str, servers: Endpoints
) -> None:
    await Scenario(shop).everything(2)
    env = worker_env(
        database_url,
        with_redis_db(servers.redis_url, PROJECTOR_REDIS_DB),
        ORDERS_REBUILD_WORKERS=str(LOADERS),
    )

    started = await asyncio.to_thread(_killed_among_its_loaders, env)

    assert len(started) == LOADERS
    await asyncio.to_thread(gone, started, "loaders of the killed rebuild")  # raises if not
    # they left at once (a loader's imports alone outlast the kill): none attached its
    # generation or moved its progress, and readers still read generation 1
    assert await rebuild_positions(database_url) == dict.fromkeys(BY_NAME, 0)
    assert await live_generations_of(database_url) == dict.fromkeys(BY_NAME, 1)
    again = await asyncio.to_thread(
        subprocess.run, REBUILD, env=env, capture_output=True, timeout=300, check=False
    )
    assert again.returncode == 0, again.stderr
    assert await live_generations_of(database_url) == {p.name: 2 for p in PROJECTIONS}


async def rebuild_positions(database_url: str) -> dict[str, int]:
    engine = await open_engine(database_url, None, master=MASTER)
    try:
        async with engine.store.pool.connection() as conn:
            cur = await conn.execute("SELECT name, position FROM projection_rebuilds")
            return {str(name): int(position) for name, position in await cur.fetchall()}
    finally:
        await engine.close()


async def live_generations_of(database_url: str) -> dict[str, int]:
    engine = await open_engine(database_url, None, master=MASTER)
    try:
        return await live_generations(engine.store)
    finally:
        await engine.close()


async def test_a_feed_behind_a_checkpoint_is_refused_until_the_projection_is_rebuilt(
    shop: Shop, engine: Engine
) -> None:
    scenario = Scenario(shop)
    await scenario.round()
    await live.follow(engine)
    async with engine.store.pool.connection() as conn:  # as after restoring an older backup
        await conn.execute(
            "UPDATE projection_checkpoints SET position = position + 500 WHERE name = 'orders'"
        )
    await scenario.round()

    with pytest.raises(ProjectionsRefusedError) as refused:
        await live.follow(engine)

    (error,) = refused.value.refused
    assert isinstance(error, FeedBehindCheckpointError)
    assert error.projection == "orders"
    assert "orders projections rebuild orders" in str(error)
    assert "restored or reset" in str(error)
    expected = await scenario.expected()
    projected = await postgres_docs(engine.store)
    assert projected["categories"] == expected["categories"]  # the others went on
    assert projected["orders"] != expected["orders"]  # this one did not move

    await rebuild.rebuild(engine, [BY_NAME["orders"]], progress=False)
    await live.follow(engine)

    assert await postgres_docs(engine.store) == expected


async def test_a_feed_that_is_not_the_one_a_checkpoint_applied_is_refused(
    shop: Shop, engine: Engine
) -> None:
    scenario = Scenario(shop)
    await scenario.round()
    await live.follow(engine)
    async with engine.store.pool.connection() as conn:  # as after a reset and new writes
        await conn.execute(
            "UPDATE projection_checkpoints SET feed_hash = %s WHERE name = 'bills'", (b"\0" * 32,)
        )

    with pytest.raises(ProjectionsRefusedError, match="holds other events"):
        await live.follow(engine)

"""The projector as it runs in production: `orders projector` processes woken by the command
API's writes, and a plain `rq worker projections` running a queued catch-up."""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis
from rq import Queue

from command_api.app import create_app
from orders.settings import Settings
from orders.wakeup import JOB, QUEUE, SIGNAL
from projector import rebuild
from projector.engine import Engine
from readmodels.schema import PROJECTION_OF, PROJECTIONS, TABLES
from tests.projection import (
    Process,
    Scenario,
    digest,
    eventually,
    live_generations,
    postgres_docs,
    postgres_rows,
    redis_docs,
    redis_generation,
    worker_env,
)
from tests.shop import Shop


@pytest.fixture
async def writes(database_url: str, redis_url: str) -> AsyncIterator[Shop]:
    """The command API, waking the projector through the test's own Redis database."""

    app = create_app(Settings(RATE_LIMIT_ENABLED="false"), database_url, redis_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://commands") as client:
            yield Shop(client)


def caught_up(engine: Engine, scenario: Scenario) -> object:
    async def check() -> bool:
        expected = await scenario.expected()
        assert engine.redis is not None
        assert await postgres_docs(engine.store) == expected
        assert await redis_docs(engine.redis) == expected
        return True

    return check


async def test_orders_projector_projects_every_write_it_is_woken_for(
    database_url: str, redis_url: str, writes: Shop, engine: Engine, tmp_path: Path
) -> None:
    worker = Process(
        [sys.executable, "-m", "launch.cli", "projector"],
        worker_env(database_url, redis_url),
        tmp_path / "worker.log",
    )
    try:
        scenario = Scenario(writes)
        await scenario.everything()
        await eventually(caught_up(engine, scenario))
        await scenario.round()  # and again, with the worker's streams already folded
        await eventually(caught_up(engine, scenario))
    except AssertionError:
        print(worker.output())  # noqa: T201
        raise
    finally:
        worker.stop()


async def test_a_plain_rq_worker_runs_a_queued_catch_up(
    database_url: str, redis_url: str, writes: Shop, engine: Engine, tmp_path: Path
) -> None:
    scenario = Scenario(writes)
    await scenario.round()
    assert engine.redis is not None
    await eventually(_woken(engine))  # the command API's wake-up: a signal, not a job
    queue = Queue(QUEUE, connection=_sync(redis_url))
    assert queue.count == 0
    queue.enqueue(JOB, result_ttl=0)

    rq = Process(
        [str(Path(sys.executable).parent / "rq"), "worker", QUEUE, "--url", redis_url, "--burst"],
        worker_env(database_url, redis_url),
        tmp_path / "rq.log",
    )
    assert rq.popen.wait(60) == 0, rq.output()

    expected = await scenario.expected()
    assert await postgres_docs(engine.store) == expected
    assert await redis_docs(engine.redis) == expected
    assert JOB == "projector.jobs.wake_up"


def _sync(url: str) -> object:
    return redis.Redis.from_url(url)


def _woken(engine: Engine) -> object:
    async def check() -> bool:
        assert engine.redis is not None
        return await engine.redis.llen(SIGNAL) == 1

    return check


class PositionWatch:
    """Samples every Redis `pos` hash of the live generations and every PostgreSQL row position,
    and records any that went back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seen: dict[tuple[str, str, int], int] = {}
        self.backwards: list[str] = []

    async def sample(self) -> None:
        assert self.engine.redis is not None
        for table in TABLES.values():
            generation = await redis_generation(self.engine.redis, PROJECTION_OF[table.name].name)
            held = await self.engine.redis.hgetall(f"{table.redis_prefix(generation)}pos")
            self._record("redis", table.name, {int(k): int(v) for k, v in held.items()})
        rows = await postgres_rows(self.engine.store)
        for name, table_rows in rows.items():
            self._record("postgres", name, {i: r[1] for i, r in table_rows.items()})

    def _record(self, sink: str, table: str, positions: dict[int, int]) -> None:
        for id_key, position in positions.items():
            before = self.seen.get((sink, table, id_key), 0)
            if position < before:
                self.backwards.append(f"{sink} {table} {id_key}: {before} -> {position}")
            self.seen[(sink, table, id_key)] = max(before, position)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.sample()
            await asyncio.sleep(0.02)


async def test_workers_killed_mid_batch_leave_the_read_models_a_fresh_rebuild_would_build(
    database_url: str, redis_url: str, writes: Shop, engine: Engine, tmp_path: Path
) -> None:
    env = worker_env(database_url, redis_url, ORDERS_PROJECTOR_BATCH="7")
    queue = Queue(QUEUE, connection=_sync(redis_url))
    scenario = Scenario(writes)
    watch, stop = PositionWatch(engine), asyncio.Event()
    watching = asyncio.create_task(watch.run(stop))
    rnd = random.Random(5)
    log = tmp_path / "workers.log"
    try:
        for _ in range(8):
            workers = [Process([sys.executable, "-m", "launch.cli", "projector"], env, log)
                       for _ in range(2)]  # fmt: skip
            await scenario.round()
            for _ in range(5):  # catch-ups queued beside the followers, racing them
                queue.enqueue(JOB, result_ttl=0)
            await asyncio.sleep(rnd.uniform(0.6, 1.6))  # a worker takes ~0.5 s to start
            for worker in workers:
                worker.kill()
        survivor = Process([sys.executable, "-m", "launch.cli", "projector"], env, log)
        try:
            await eventually(caught_up(engine, scenario), seconds=30)
        finally:
            survivor.stop()
    except AssertionError:
        print(log.read_text(errors="replace")[-5000:])  # noqa: T201
        raise
    finally:
        stop.set()
        await watching
    assert engine.redis is not None
    live = (digest(await postgres_docs(engine.store)), digest(await redis_docs(engine.redis)))

    await rebuild.rebuild(engine, PROJECTIONS, progress=False)

    assert await live_generations(engine.store) == {p.name: 2 for p in PROJECTIONS}
    fresh = (digest(await postgres_docs(engine.store)), digest(await redis_docs(engine.redis)))
    assert live == fresh
    assert watch.backwards == []
    assert len(watch.seen) > 50


async def test_the_projector_logs_a_summary_at_info_not_rq_lines_per_job(
    database_url: str, redis_url: str, writes: Shop, engine: Engine, tmp_path: Path
) -> None:
    env = worker_env(
        database_url, redis_url, LOG_LEVEL="INFO", ORDERS_PROJECTOR_SUMMARY_SECONDS="1"
    )
    worker = Process([sys.executable, "-m", "launch.cli", "projector"], env, tmp_path / "w.log")
    try:
        scenario = Scenario(writes)
        for _ in range(2):
            await scenario.round()
            await eventually(caught_up(engine, scenario))
            await asyncio.sleep(1.5)  # a summary is due
    finally:
        worker.stop()
    output = worker.output()
    assert engine.redis is not None
    assert await engine.redis.llen(SIGNAL) == 0  # the follower took the wake-ups
    assert "feed positions in" in output, output  # the summary
    for rq_line in ("Successfully completed", "Job OK", "result discarded", "projector.jobs"):
        assert rq_line not in output, output

"""`orders projector` asked to stop, and not asked to: a busy projector stops within seconds of
SIGTERM with whole batches applied and no traceback; a Redis that hangs until RQ gives up on
it is not taken for a stop request. The worker is a process of the test's own, on the test's
database and (for the hang) a Redis server of its own, stopped and continued by PID."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue, Worker

from loadtest.bench_projector import write_events
from orders.embedded import start_redis, stop_redis
from orders.wakeup import JOB, QUEUE
from projector import live, rebuild
from projector.engine import Engine
from readmodels.schema import PROJECTIONS
from tests.projection import Process, digest, eventually, postgres_docs, redis_docs, worker_env

pytestmark = pytest.mark.integration

PROJECTOR = [sys.executable, "-m", "launch.cli", "projector"]
STOPPED_WITHIN = 5.0  # generous beside the ~1 s it takes; it was 10 s, then killed by `orders up`
NOISE = ("Traceback", "meta_path", "Task was destroyed")


async def positions(engine: Engine) -> list[int]:
    async with engine.store.pool.connection() as conn:
        cur = await conn.execute("SELECT position FROM projection_checkpoints")
        return [row[0] for row in await cur.fetchall()]


async def test_a_busy_projector_stops_within_seconds_with_whole_batches_and_no_traceback(
    database_url: str, redis_url: str, engine: Engine, tmp_path: Path
) -> None:
    head = await write_events(engine.store, 20_000)
    env = worker_env(database_url, redis_url, ORDERS_PROJECTOR_BATCH="20", LOG_LEVEL="INFO")
    worker = Process(PROJECTOR, env, tmp_path / "worker.log")
    try:

        async def busy() -> bool:
            return any(p > 0 for p in await positions(engine))

        await eventually(busy, seconds=60)
        start = time.monotonic()
        os.killpg(worker.pid, signal.SIGTERM)  # what `orders up` sends on Ctrl-C
        code = worker.popen.wait(60)
        took = time.monotonic() - start
    finally:
        worker.kill()
    output = worker.output()
    assert code == 0, output
    assert took < STOPPED_WITHIN, f"stopped {took:.1f} s after SIGTERM\n{output}"
    assert min(await positions(engine)) < head, "caught up before the stop: no busy stop seen"
    assert not [word for word in NOISE if word in output], output

    await live.follow(engine)  # the rest, from where it stopped
    assert engine.redis is not None
    left = (digest(await postgres_docs(engine.store)), digest(await redis_docs(engine.redis)))
    await rebuild.rebuild(engine, PROJECTIONS, progress=False)
    fresh = (digest(await postgres_docs(engine.store)), digest(await redis_docs(engine.redis)))
    assert left == fresh


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A Redis server of the test's own (the suite's is shared): its URL and its PID."""
    folder = tmp_path / "redis"
    url = start_redis(folder)
    pid = int((folder / "redis.pid").read_text().split()[0])
    yield url, pid
    os.kill(pid, signal.SIGCONT)
    stop_redis(folder)


async def test_a_redis_that_hangs_until_rq_gives_up_is_not_a_stop_request(
    database_url: str, own_redis: tuple[str, int], tmp_path: Path
) -> None:
    url, redis_pid = own_redis
    # RQ's socket timeout is its worker TTL minus 5 s: 11 s here, 415 s by default
    env = worker_env(database_url, url, ORDERS_PROJECTOR_WORKER_TTL="16")
    worker = Process(PROJECTOR, env, tmp_path / "worker.log")
    connection = redis.Redis.from_url(url)
    try:

        async def listening() -> bool:
            return bool(Worker.all(connection=connection))

        await eventually(listening, seconds=30)
        os.kill(redis_pid, signal.SIGSTOP)  # hung: it accepts nothing and answers nothing
        await asyncio.sleep(14)
        os.kill(redis_pid, signal.SIGCONT)
        assert worker.popen.poll() is None, worker.output()

        queue = Queue(QUEUE, connection=connection)
        queue.enqueue(JOB, result_ttl=0)

        async def worked() -> bool:  # the worker took the job: it is back on the queue
            return queue.count == 0

        await eventually(worked, seconds=30)
        assert worker.popen.poll() is None, worker.output()
    finally:
        connection.close()
        worker.stop()
    assert worker.popen.returncode == 0, worker.output()

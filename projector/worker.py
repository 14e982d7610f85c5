"""`orders projector`: an RQ worker on the `projections` queue, and the periodic sweep.

The worker is RQ's SimpleWorker (jobs run in this process, not in a fork per job), so every job
shares this process's host: one pool, one Redis client and warm folded streams. The sweep runs
in a thread of the same process every SWEEP_SECONDS, straight against PostgreSQL (and Redis when
it answers): it does not go through the queue, so read models in PostgreSQL stay current while
Redis is down, and a write whose wake-up was lost is projected within seconds once it is back.
If Redis is down at start or goes away, the worker waits and connects again.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import redis
from rq import Queue, SimpleWorker

from orders.embedded import ensure_servers
from orders.settings import Settings
from orders.wakeup import QUEUE
from projector import jobs

log = logging.getLogger("projector.worker")

SWEEP_SECONDS = 1.0
RECONNECT_SECONDS = 2.0


def run(settings: Settings, *, sweep_seconds: float = SWEEP_SECONDS, burst: bool = False) -> int:
    endpoints = ensure_servers(settings)
    # jobs build their host from the environment: make it name the servers this worker uses
    os.environ["DATABASE_URL"] = endpoints.database_url
    os.environ["REDIS_URL"] = endpoints.redis_url
    stop = threading.Event()
    sweeper = threading.Thread(target=_sweep, args=(stop, sweep_seconds), daemon=True)
    sweeper.start()
    try:
        _work(endpoints.redis_url, burst=burst)
    finally:
        stop.set()
        sweeper.join(timeout=10)
    return 0


def _work(redis_url: str, *, burst: bool) -> None:
    while True:
        connection = redis.Redis.from_url(redis_url)
        try:  # the worker's constructor talks to Redis already (CLIENT SETNAME)
            worker = SimpleWorker([Queue(QUEUE, connection=connection)], connection=connection)
            worker.work(burst=burst, logging_level=logging.getLevelName(log.getEffectiveLevel()))
        except (redis.ConnectionError, redis.TimeoutError) as e:
            log.warning(
                "Redis unavailable for the queue (%s); retrying in %.0f s", e, RECONNECT_SECONDS
            )
            time.sleep(RECONNECT_SECONDS)
            continue
        finally:
            connection.close()
        return  # asked to stop (SIGINT/SIGTERM), or a burst is done


def _sweep(stop: threading.Event, every: float) -> None:
    last_error = ""
    while not stop.wait(every):
        try:
            jobs.sweep()
            last_error = ""
        except Exception as e:  # noqa: BLE001 - the sweep must outlive any one failure
            message = f"{type(e).__name__}: {e}"
            if message != last_error:  # once per distinct problem, not once a second
                log.error("sweep failed: %s", message)  # noqa: TRY400 - the message says it all
                last_error = message

"""`orders projector`: the live follower, and an RQ worker on the `projections` queue.

The follower (`projector.follower`) is a thread that blocks on the command API's wake-up signal
and catches the projections up, straight against PostgreSQL (and Redis when it answers), at
least every SWEEP_SECONDS woken or not: read models in PostgreSQL stay current while Redis is
down, and a write whose wake-up was lost is projected within seconds. The RQ worker runs queued
jobs, rebuilds above all. It is RQ's SimpleWorker (jobs run in this process, not in a fork per
job), so every job shares this process's host with the follower: one pool, one Redis client and
warm folded streams. If Redis is down at start or goes away, the worker waits and connects again.

Stopping: SIGINT or SIGTERM sets `jobs.STOPPING` before RQ's own handler runs, so a catch-up
under way ends after the batch being written (committed with its checkpoint), the follower
within one blocking pop, and a job returns; RQ then stops as asked. RQ also returns from
`work()` on its own, when Redis times out or something unexpected escapes it ("quitting"):
that is not a stop request, and the worker is started again. RQ's per-job INFO lines are left
out unless LOG_LEVEL is DEBUG; `projector.activity` says what was projected instead.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

import redis
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested

from orders.embedded import ensure_servers
from orders.settings import Settings
from orders.wakeup import QUEUE
from projector import follower, jobs

log = logging.getLogger("projector.worker")

SWEEP_SECONDS = 1.0
RECONNECT_SECONDS = 2.0


class ProjectorWorker(SimpleWorker):
    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        jobs.STOPPING.set()
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]


def _rq_level() -> str:
    """RQ logs four INFO lines per job (dequeued, completed, OK, result discarded): at a few
    writes a second they bury every other line, and cost CPU under load."""
    return "DEBUG" if log.isEnabledFor(logging.DEBUG) else "WARNING"


def _worker_ttl() -> int | None:
    """RQ's worker TTL, from which it derives its Redis socket timeout (TTL - 5 s). Tests
    shorten it to see RQ give up on a hung Redis in seconds; operators need not touch it."""
    ttl = os.environ.get("ORDERS_PROJECTOR_WORKER_TTL")
    return int(ttl) if ttl else None


def run(settings: Settings, *, sweep_seconds: float = SWEEP_SECONDS, burst: bool = False) -> int:
    endpoints = ensure_servers(settings)
    # jobs build their host from the environment: make it name the servers this worker uses
    os.environ["DATABASE_URL"] = endpoints.database_url
    os.environ["REDIS_URL"] = endpoints.redis_url
    _stop_on_signal()
    stop = threading.Event()
    following = threading.Thread(
        target=follower.follow, args=(stop, endpoints.queue_url, sweep_seconds, jobs.follow),
        name="follower", daemon=True,
    )  # fmt: skip
    following.start()
    log.info(
        "projector: following the feed (woken by writes, at least every %.0f s);"
        " RQ worker on queue %r", sweep_seconds, QUEUE,
    )  # fmt: skip
    try:
        _work(endpoints.queue_url, burst=burst)
    finally:
        stop.set()
        jobs.STOPPING.set()  # a catch-up under way ends after its batch too
        following.join(timeout=10)
        jobs.close_host()
    log.info("projector stopped")
    return 0


def _stop_on_signal() -> None:
    """SIGINT and SIGTERM ask for a stop while no RQ worker is running (before the first one
    has installed its own handlers, or between two): a stop, not the default sudden death."""

    def asked(_signum: int, _frame: FrameType | None) -> None:
        jobs.STOPPING.set()

    signal.signal(signal.SIGINT, asked)
    signal.signal(signal.SIGTERM, asked)


def _work(redis_url: str, *, burst: bool) -> None:
    try:
        while not jobs.STOPPING.is_set() and not _worked(redis_url, burst=burst):
            jobs.STOPPING.wait(RECONNECT_SECONDS)
    except StopRequested:  # raised by RQ's handler on a signal while it was idle
        return


def _worked(redis_url: str, *, burst: bool) -> bool:
    """Run an RQ worker until it returns; whether it returned because it was meant to."""
    connection = redis.Redis.from_url(redis_url)
    try:  # the worker's constructor talks to Redis already (CLIENT SETNAME)
        worker = ProjectorWorker(
            [Queue(QUEUE, connection=connection)], connection=connection, worker_ttl=_worker_ttl()
        )
        if not jobs.STOPPING.is_set():  # asked while the worker was being made
            worker.work(burst=burst, logging_level=_rq_level())
    except (redis.ConnectionError, redis.TimeoutError) as e:
        log.warning(
            "Redis unavailable for the queue (%s); retrying in %.0f s", e, RECONNECT_SECONDS
        )
        return jobs.STOPPING.is_set()
    finally:
        connection.close()
        _stop_on_signal()
    if burst or jobs.STOPPING.is_set():
        return True  # asked to stop (SIGINT/SIGTERM), or a burst is done
    log.warning(
        "the RQ worker quit without being asked to (a Redis timeout?); starting it again in %.0f s",
        RECONNECT_SECONDS,
    )
    return False

"""The projector's RQ jobs, and the catch-up its follower runs: module-level functions without
arguments, so any worker on the `projections` queue can run them (`orders projector`, or a plain
`rq worker projections` with DATABASE_URL / REDIS_URL in its environment).

Jobs and the follower of one process share a host: a thread running an event loop with one
`Engine` (pool, Redis client, folded streams), so that a wake-up costs a few queries, not a new
pool and a cold cache.
A forked work horse (plain `rq worker`) gets a host of its own, which dies with it; correct, only
colder. Duplicate and retried jobs are harmless: the runner takes each projection's lock or
leaves it to the runner that has it.

`rebuild_projections` is `orders projections rebuild` as a job, queued by the query API's admin
endpoint so that a rebuild never runs inside an API process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from orders.embedded import ensure_servers
from orders.settings import Settings
from orders.vault import MasterKey, master_key
from projector import live, rebuild
from projector.activity import SUMMARY_SECONDS, Activity
from projector.engine import LIVE_BATCH, Engine, open_engine

log = logging.getLogger("projector.jobs")

T = TypeVar("T")

# Set by the worker when this process is asked to stop (SIGINT/SIGTERM), even before a host
# exists: the host's catch-ups end after the batch being written, and the job returns.
STOPPING = threading.Event()


class Host:
    """An event loop in a daemon thread, with the engine built on it."""

    def __init__(self, database_url: str, redis_url: str, master: MasterKey | None) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="projector", daemon=True)
        self.thread.start()
        self.engine: Engine = self.call(lambda: open_engine(database_url, redis_url, master=master))
        self.engine.stopping = STOPPING
        # smaller batches make a test's kill land mid-catch-up, a shorter summary shows in a
        # test's log; operators need not touch either
        self.engine.live_batch = int(os.environ.get("ORDERS_PROJECTOR_BATCH", LIVE_BATCH))
        every = float(os.environ.get("ORDERS_PROJECTOR_SUMMARY_SECONDS", SUMMARY_SECONDS))
        self.activity = Activity(every)

    def call(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        return asyncio.run_coroutine_threadsafe(make(), self.loop).result()

    def close(self) -> None:
        """Close the engine and end the loop, its thread and its tasks: a loop left running
        into the interpreter's exit has its pending tasks destroyed there, and logs it while
        the interpreter is half torn down (the tracebacks that ended every Ctrl-C)."""
        self.call(self.engine.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        if not self.thread.is_alive():
            self.loop.close()


_lock = threading.Lock()
_host: Host | None = None


def host() -> Host:
    """This process's host, built on first use from the environment's settings (a forked child
    builds its own: the parent's loop thread does not exist in it)."""
    global _host  # noqa: PLW0603 - one host per process, built lazily, never at import
    with _lock:
        if _host is None or _host.pid != os.getpid():
            settings = Settings()
            endpoints = ensure_servers(settings)
            _host = Host(endpoints.database_url, endpoints.redis_url, master_key(settings))
        return _host


def close_host() -> None:
    """Close this process's host, if it built one (what the worker does before it exits)."""
    global _host
    with _lock:
        closing, _host = _host, None
    if closing is not None and closing.pid == os.getpid():
        closing.close()


def follow() -> int:
    """Sequence the feed and catch every projection up: what the follower does each time it is
    woken or polls (it is woken again by any write that commits meanwhile, so it does not look
    again). Returns feed positions covered."""
    engine = host().engine
    return _followed(lambda: live.follow(engine, look_again=False))


def wake_up() -> int:
    """The same catch-up as an RQ job, for a plain `rq worker projections` (the command API
    wakes `orders projector`'s follower instead) or anyone who queues one: it looks again
    until nothing new comes, since nothing wakes it for what commits meanwhile."""
    engine = host().engine
    return _followed(lambda: live.follow(engine))


def _followed(make: Callable[[], Coroutine[Any, Any, live.CatchUp]]) -> int:
    """Run a catch-up on the host, tell its activity; the feed positions it covered."""
    running = host()
    start = time.monotonic()
    done = running.call(make)
    running.activity.record(done.covered, time.monotonic() - start, done.lag)
    return done.covered


def rebuild_projections(names: Sequence[str]) -> list[dict[str, Any]]:
    """Rebuild the named projections (all if none) and switch them; what each became.

    On an engine and an event loop of its own, in the job's thread: the host's loop goes on
    following the feed (the worker's sweep) while the rebuild replays it. An unknown name or a
    rebuild already running fails the job with a RebuildError saying so; a rebuild stopped
    half-way (worker killed, job timeout) resumes from its progress row on the next one.
    """
    projections = rebuild.chosen(names)
    settings = Settings()
    endpoints = ensure_servers(settings)

    async def run() -> list[rebuild.Rebuilt]:
        engine = await open_engine(
            endpoints.database_url, endpoints.redis_url, master=master_key(settings),
            application_name="projections-rebuild",
        )  # fmt: skip
        try:
            await engine.store.sequence()
            return await rebuild.rebuild(engine, projections, progress=False)
        finally:
            await engine.close()

    return [
        {
            "projection": r.projection.name,
            "generation": r.generation,
            "position": r.position,
            "replaced": r.replaced,
            "redis_switched": r.redis_switched,
            "redis_loaded": r.redis_warmed,
            "seconds": round(r.seconds, 3),
            "redis_seconds": round(r.warmed_seconds, 3),
        }
        for r in asyncio.run(run())
    ]

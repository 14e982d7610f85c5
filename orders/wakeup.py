"""Waking the projector after a write: one element on a Redis list that the projector's follower
blocks on (`projector.follower`), not an RQ job per wake-up.

A job cost the writer an enqueue (a hash, the queue, a flag to de-duplicate) and the worker a
job's bookkeeping (started and finished registries, result handling) for every catch-up; the
list costs one round trip on each side. The writer pushes and trims the list to one element in
the same round trip, so it never holds more than one wake-up, however many writes come while
the projector is busy or down: the follower pops it and catches up once for all of them.

If Redis is down, the write has already committed; the follower's periodic poll picks it up, so
the failure is only logged. Within one process, concurrent writes share a wake-up: one
background task sends them, and the writes that commit while a round is on its way to Redis only
ask for one more round, sent when it returns. Every write is still followed by a wake-up sent
after its commit, and no response waits for Redis.

RQ stays for what is work to queue: rebuilds (and `wake_up`, a catch-up as a job, for a plain
`rq worker` or a cron that wants one).
"""

from __future__ import annotations

import asyncio
import logging

import redis
import redis.asyncio

# The projector's side of the queue: RQ enqueues a job by its function's dotted path, so the
# services that queue work name `projector.jobs` functions here, once, without importing the
# projector (a test checks that both names resolve to its jobs).
QUEUE = "projections"
JOB = "projector.jobs.wake_up"
REBUILD_JOB = "projector.jobs.rebuild_projections"
SIGNAL = "orders:projector:wake"  # a list of at most one element: "there is something new"

log = logging.getLogger("orders.wakeup")


class Waker:
    def __init__(self, redis_url: str) -> None:
        self._async = redis.asyncio.Redis.from_url(
            redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._again = False
        self._rounds: asyncio.Task[None] | None = None

    async def wake(self) -> None:
        """Ask for a wake-up after a commit; it is sent in the background."""
        self._again = True
        if self._rounds is None or self._rounds.done():
            self._rounds = asyncio.create_task(self._send_rounds())

    async def _send_rounds(self) -> None:
        while self._again:
            self._again = False
            await self._wake_once()

    async def _wake_once(self) -> None:
        try:
            async with self._async.pipeline(transaction=False) as pipe:
                pipe.lpush(SIGNAL, b"1")
                pipe.ltrim(SIGNAL, 0, 0)
                await pipe.execute()
        except (redis.RedisError, OSError) as e:
            log.warning("projector wake-up not sent (its poll will catch up): %s", e)

    async def close(self) -> None:
        if self._rounds is not None:
            await self._rounds
        await self._async.aclose()

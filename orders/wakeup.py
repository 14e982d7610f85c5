"""Waking the projector after a write: a de-duplicated RQ job on the `projections` queue.

A flag key with a short expiry stands for "a wake-up is queued": only the writer that sets it
enqueues, and the job clears it before it reads the feed, so a write that lands while a job runs
queues exactly one more. If Redis is down, the write has already committed; the projector's
periodic sweep picks it up, so the failure is only logged.

Within one process, concurrent writes share a wake-up: one background task sends them, and the
writes that commit while a round is on its way to Redis only ask for one more round, sent when
it returns. Every write is still followed by a wake-up sent after its commit, with one Redis
round trip per round instead of one per write, and no response waits for Redis.
"""

from __future__ import annotations

import asyncio
import logging

import redis
import redis.asyncio
from rq import Queue

# The projector's side of the queue: RQ enqueues a job by its function's dotted path, so the
# services that queue work name `projector.jobs` functions here, once, without importing the
# projector (a test checks that both names resolve to its jobs).
QUEUE = "projections"
JOB = "projector.jobs.wake_up"
REBUILD_JOB = "projector.jobs.rebuild_projections"
FLAG = "orders:projector:wakeup-queued"
FLAG_TTL_SECONDS = 10

log = logging.getLogger("orders.wakeup")


class Waker:
    def __init__(self, redis_url: str) -> None:
        self._async = redis.asyncio.Redis.from_url(
            redis_url, socket_timeout=0.5, socket_connect_timeout=0.5
        )
        self._queue = Queue(
            QUEUE,
            connection=redis.Redis.from_url(
                redis_url, socket_timeout=1.0, socket_connect_timeout=1.0
            ),
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
            if await self._async.set(FLAG, b"1", nx=True, ex=FLAG_TTL_SECONDS):
                await asyncio.to_thread(self._enqueue)
        except (redis.RedisError, OSError) as e:
            log.warning("projector wake-up not sent (the sweep will catch up): %s", e)

    def _enqueue(self) -> None:
        self._queue.enqueue(JOB, result_ttl=0, failure_ttl=3600, job_timeout=600)

    async def close(self) -> None:
        if self._rounds is not None:
            await self._rounds
        await self._async.aclose()
        self._queue.connection.close()

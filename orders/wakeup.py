"""Waking the projector after a write: a de-duplicated RQ job on the `projections` queue.

A flag key with a short expiry stands for "a wake-up is queued": only the writer that sets it
enqueues, and the job clears it before it reads the feed, so a write that lands while a job runs
queues exactly one more. If Redis is down, the write has already committed; the projector's
periodic sweep picks it up, so the failure is only logged.
"""

from __future__ import annotations

import asyncio
import logging

import redis
import redis.asyncio
from rq import Queue

QUEUE = "projections"
FLAG = "orders:projector:wakeup-queued"
JOB = "projector.jobs.wake_up"
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

    async def wake(self) -> None:
        try:
            if await self._async.set(FLAG, b"1", nx=True, ex=FLAG_TTL_SECONDS):
                await asyncio.to_thread(self._enqueue)
        except (redis.RedisError, OSError) as e:
            log.warning("projector wake-up not sent (the sweep will catch up): %s", e)

    def _enqueue(self) -> None:
        self._queue.enqueue(JOB, result_ttl=0, failure_ttl=3600, job_timeout=600)

    async def close(self) -> None:
        await self._async.aclose()
        self._queue.connection.close()

"""Erasure notices: an erasure tells every process of the platform at once, so that none keeps
the person's keys or states until its caches expire. On Redis pub/sub; a process that misses a
notice (Redis down) still lets go within the vault's cache time, and at its next read of the
person's stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import redis.asyncio
from redis.exceptions import RedisError

CHANNEL = "orders:erasures"
RECONNECT_SECONDS = 1.0
POLL_SECONDS = 0.5

log = logging.getLogger("orders.notices")


class ErasureNotices:
    def __init__(self, redis_url: str) -> None:
        self._redis = redis.asyncio.Redis.from_url(
            redis_url, socket_connect_timeout=1.0, socket_timeout=1.0
        )
        self._listening: asyncio.Task[None] | None = None
        self._closed = False

    async def publish(self, subject: str) -> None:
        try:
            await self._redis.publish(CHANNEL, subject)
        except (RedisError, OSError) as e:  # the others let go within their cache time
            log.warning("erasure of %s not announced: %s", subject, e)

    def listen(self, on_erased: Callable[[str], None]) -> None:
        """Call `on_erased(subject)` for every notice, in the background, until closed."""
        self._listening = asyncio.create_task(self._listen(on_erased))

    async def _listen(self, on_erased: Callable[[str], None]) -> None:
        # polled, not cancelled: a pubsub cancelled in the middle of a read hangs in its close
        while not self._closed:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                while not self._closed:
                    message = await pubsub.get_message(timeout=POLL_SECONDS)
                    if message is not None and message["type"] == "message":
                        on_erased(message["data"].decode())
            except (RedisError, OSError) as e:
                log.debug("erasure notices: %s; listening again shortly", e)
                await asyncio.sleep(RECONNECT_SECONDS)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py

    async def close(self) -> None:
        self._closed = True
        if self._listening is not None:
            await self._listening  # within a poll, or a reconnect pause
        await self._redis.aclose()

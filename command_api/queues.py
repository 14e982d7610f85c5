"""One command in flight per stream in this process: the next one on a stream waits for the one
before it and is then decided on the state that one produced (kept by `states.StreamStates`),
instead of racing it into a version conflict. A flash sale of one product is a queue here, not a
storm of retries; across processes, conflicts are retried with jittered backoff
(`handling.handle`).

A command takes the queues of every stream it is known to touch, in sorted order, so two
commands never wait for each other in a cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager


class StreamQueues:
    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}

    @asynccontextmanager
    async def turn(self, stream_ids: Iterable[str]) -> AsyncIterator[None]:
        """Wait for the turn on every stream of `stream_ids`, and hold it inside the block."""
        streams = sorted(set(stream_ids))
        for stream in streams:  # registered first, so an idle lock is dropped only when unused
            self._users[stream] = self._users.get(stream, 0) + 1
            self._locks.setdefault(stream, asyncio.Lock())
        taken: list[asyncio.Lock] = []
        try:
            for stream in streams:
                lock = self._locks[stream]
                await lock.acquire()
                taken.append(lock)
            yield
        finally:
            for lock in reversed(taken):
                lock.release()
            for stream in streams:
                self._users[stream] -= 1
                if not self._users[stream]:
                    del self._users[stream], self._locks[stream]

    def __len__(self) -> int:
        return len(self._locks)

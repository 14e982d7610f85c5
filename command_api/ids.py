"""Entity ids, drawn from each type's PostgreSQL sequence a block at a time per process: a create
costs a round trip for its id once in BLOCK creates, not every time. Ids stay unique (the
sequence hands each out once); across processes they interleave rather than follow the order of
creation, and a process that stops leaves the rest of its block unused."""

from __future__ import annotations

import asyncio
from collections import deque

from eventstore import EventStore

BLOCK = 16


class IdBlocks:
    def __init__(self, store: EventStore, *, size: int = BLOCK) -> None:
        self.store = store
        self.size = size
        self._ready: dict[str, deque[int]] = {}
        self._refills: dict[str, asyncio.Lock] = {}

    async def next_id(self, sequence: str) -> int:
        ready = self._ready.setdefault(sequence, deque())
        if not ready:
            async with self._refills.setdefault(sequence, asyncio.Lock()):
                if not ready:  # another waiter may have refilled it meanwhile
                    ready.extend(await self.store.next_ids(sequence, self.size))
        return ready.popleft()

"""The folded states of the streams this process's commands read, kept between commands.

A stream's history never changes, so a state folded at version v stays right forever; it is
only behind. Loading a stream therefore asks the store for what came after the version held
(or, on a miss, after the newest snapshot), in one statement for every stream a command reads:
a command's cost is its streams' tails, not their histories. After an append, the states the
command produced are kept at their new versions, so the next command on a hot stream reads
nothing at all.

Every EVERY events a stream's state is saved as a snapshot, in the background (never on a
request's time), for cold starts and the other processes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from eventstore import EventStore, EventStoreError
from orders import snapshots

log = logging.getLogger("command_api.states")

CAPACITY = 100_000  # streams kept per process (least recently used go first)


@dataclass(frozen=True, slots=True)
class Loaded:
    version: int
    state: Any


EMPTY = Loaded(0, None)


@dataclass(slots=True)
class _Held:
    version: int
    state: Any
    snapshot: int  # the version of the newest snapshot this process knows of


class StreamStates:
    def __init__(
        self, store: EventStore, *, capacity: int = CAPACITY, every: int = snapshots.EVERY
    ) -> None:
        self.store = store
        self.capacity = capacity
        self.every = every
        self.reads = 0  # statements sent to the store, and events they brought: for tests
        self.events_read = 0
        self._held: OrderedDict[str, _Held] = OrderedDict()
        self._due: dict[str, Loaded] = {}
        self._saving: asyncio.Task[None] | None = None

    async def load(self, stream_ids: Iterable[str]) -> dict[str, Loaded]:
        """Each stream's current state, reading only what this process does not hold yet."""
        wanted = list(dict.fromkeys(stream_ids))
        if not wanted:
            return {}
        held = {s: self._held.get(s) for s in wanted}
        tails = [snapshots.tail(s, h.version if h else 0) for s, h in held.items()]
        found = await self.store.read_tails(tails)
        self.reads += 1
        loaded = {}
        for stream, tail in found.items():
            self.events_read += len(tail.events)
            before = held[stream]
            state = snapshots.folded(tail, before.state if before else None)
            known = tail.snapshot.version if tail.snapshot else (before.snapshot if before else 0)
            self._keep(stream, _Held(tail.version, state, known))
            loaded[stream] = Loaded(tail.version, state)
        self._snapshot_due(loaded)
        return loaded

    def peek(self, stream: str) -> Any:
        """The state held for a stream, perhaps behind (None: not held); no I/O."""
        held = self._held.get(stream)
        return None if held is None else held.state

    def remember(self, states: Mapping[str, Loaded]) -> None:
        """Keep the states an append just produced, at the versions it gave them."""
        for stream, one in states.items():
            before = self._held.get(stream)
            self._keep(stream, _Held(one.version, one.state, before.snapshot if before else 0))
        self._snapshot_due(states)

    def _snapshot_due(self, states: Mapping[str, Loaded]) -> None:
        """Save, in the background, the states EVERY or more events past their last snapshot
        (a long stream read cold, or one that grew by as much here)."""
        for stream, one in states.items():
            held = self._held.get(stream)
            if held is not None and one.version - held.snapshot >= self.every:
                self._due[stream] = one
        if self._due and (self._saving is None or self._saving.done()):
            self._saving = asyncio.create_task(self._save())

    def forget(self, stream_ids: Iterable[str]) -> None:
        for stream in stream_ids:
            self._held.pop(stream, None)
            self._due.pop(stream, None)

    def __len__(self) -> int:
        return len(self._held)

    async def close(self) -> None:
        if self._saving is not None:
            await self._saving

    def _keep(self, stream: str, held: _Held) -> None:
        current = self._held.pop(stream, None)
        if current is not None and current.version > held.version:
            held = current  # a slower command read an older tail: keep the newer state
        self._held[stream] = held
        if len(self._held) > self.capacity:
            self._held.popitem(last=False)

    async def _save(self) -> None:
        while self._due:
            due, self._due = self._due, {}
            rows = [snapshots.snapshot(s, one.version, one.state) for s, one in due.items()]
            try:
                await self.store.save_snapshots(rows)
            except EventStoreError as e:  # a later append tries again
                log.warning("snapshots not saved: %s", e)
                continue
            for stream, one in due.items():
                held = self._held.get(stream)
                if held is not None:
                    held.snapshot = max(held.snapshot, one.version)

"""The folded streams a runner keeps between batches, so that an event costs one `evolve`, not a
replay of its stream, and how a batch brings them forward.

The feed is ordered by writing transaction, not by stream version: an append that locked one
stream and then waited for another can take a lower transaction id than the append it waited
for, so version 6 of a product may come a few positions before version 5. The projector
therefore holds a stream as of a feed position p at the highest version the feed has shown up to
p (every lower version is committed by then, even if not sequenced yet): a version that arrives
late is already folded in, and a version whose predecessors have not all been seen is folded
together with them, read from the store.

A cache stands at one feed position; a runner that starts anywhere else starts it afresh. A
cache filled from position 0 that never evicted ("complete") knows that a stream it does not
hold has no event yet, so a rebuild never reads a stream back. Any other miss reads the stream,
with the feed position of each event, in one round trip for the whole batch.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.events import Event
from eventstore import EventStore
from projector.changes import Change, Folded, apply, initial, replay
from projector.errors import StreamShorterThanFeedError
from projector.feed import FeedEvent, StreamEvent, read_streams
from readmodels.schema import Projection


class StreamCache:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.position: int | None = None
        self.complete = False
        self._held: dict[str, Folded] = {}

    def __len__(self) -> int:
        return len(self._held)

    def align(self, position: int) -> None:
        """Make the cache stand at `position`: kept if it already does, else started afresh."""
        if self.position != position:
            self._held.clear()
            self.position = position
            self.complete = position == 0

    def forget(self) -> None:
        """Drop everything: a batch that raised half-way through left some streams folded past
        the position the cache claims."""
        self._held.clear()
        self.position = None
        self.complete = False

    def get(self, stream_id: str) -> Folded | None:
        folded = self._held.pop(stream_id, None)
        if folded is not None:
            self._held[stream_id] = folded  # most recently used goes last
        return folded

    def put(self, stream_id: str, folded: Folded) -> None:
        self._held.pop(stream_id, None)
        self._held[stream_id] = folded
        if len(self._held) > self.capacity:
            del self._held[next(iter(self._held))]
            self.complete = False


async def advance(
    store: EventStore,
    projection: Projection,
    cache: StreamCache,
    events: Sequence[FeedEvent],
    *,
    start: int,
    end: int,
) -> list[Change]:
    """Bring every stream of a batch (feed positions start+1..end) forward; return the
    documents that changed, each as of the stream's last position in the batch."""
    cache.align(start)
    by_stream: dict[str, list[FeedEvent]] = {}
    for e in events:
        by_stream.setdefault(e.stream_id, []).append(e)
    changes: list[Change] = []
    missing: dict[str, int] = {}
    for stream_id, in_batch in by_stream.items():
        held = cache.get(stream_id) or (initial(projection) if cache.complete else None)
        new = None if held is None else _following(held.version, in_batch)
        if held is None or new is None:
            missing[stream_id] = max(e.version for e in in_batch)
        elif new:
            folded, changed = apply(projection, held, new, in_batch[-1].position)
            cache.put(stream_id, folded)
            changes += changed
    if missing:
        streams = await read_streams(store, missing)
        for stream_id, stream in streams.items():
            if len(stream) != missing[stream_id]:
                raise StreamShorterThanFeedError(stream_id, missing[stream_id], len(stream))
            before, new = _split(stream, start)
            position = by_stream[stream_id][-1].position
            folded, changed = apply(projection, replay(projection, before), new, position)
            cache.put(stream_id, folded)
            changes += changed
    cache.position = end
    return changes


def _following(held: int, in_batch: Sequence[FeedEvent]) -> list[Event] | None:
    """The events to fold after version `held`, in version order: none when the batch only
    brings late versions already folded in; None when some version in between is not in the
    batch (the stream must be read)."""
    later = sorted((e for e in in_batch if e.version > held), key=lambda e: e.version)
    if any(e.version != held + n for n, e in enumerate(later, start=1)):
        return None
    return [e.event for e in later]


def _split(stream: list[StreamEvent], start: int) -> tuple[list[Event], list[Event]]:
    """A stream read up to its target version, cut where it stood at feed position `start`:
    at the highest version the feed had shown by then."""
    seen = [e.version for e in stream if e.feed_position is not None and e.feed_position <= start]
    stood = max(seen, default=0)
    return [e.event for e in stream[:stood]], [e.event for e in stream[stood:]]

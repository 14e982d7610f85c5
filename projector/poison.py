"""Finding the event a projection cannot apply: when reading, decoding, folding or rendering a
batch raises, which event of the projection's streams is the first that does.

The batch is applied again for that projection alone, through the same read and fold as the
runner's, in chunks carried on one set of folded streams: 1, 2, 4, ... events, then CHUNK at a
time. The first chunk that raises holds the event; halving it (each half applied from the
chunk's start, from the streams as the pass held them there) finds it: the last event of the
shortest prefix that raises. The events before it apply, so the projection can stop at N - 1
with nothing skipped. That costs one pass over the events up to N (in chunks: one read per
CHUNK events) plus about log2(CHUNK) small ones; a retry, whose batch starts just before N,
finds it in one.
"""

from __future__ import annotations

from dataclasses import dataclass

from eventstore import EventStore, FeedIdentity
from projector.changes import Folded
from projector.failures import Poison, is_the_events
from projector.feed import read_batch
from projector.states import StreamCache, advance
from readmodels.schema import Projection

CHUNK = 128  # events applied at a time: one read each, and at most 7 halvings at the end


async def locate(
    store: EventStore, projection: Projection, start: int, upto: int, limit: int
) -> Poison | None:
    """The first event of `projection` in feed positions start+1..upto (at most `limit` of its
    events) that cannot be applied after `start`; None when they all apply (the failure came
    from elsewhere, or did not happen again). Errors that are not the event's are raised."""
    ids = await store.read_feed_identities(
        start, upto, stream_types=(projection.stream_type,), limit=limit
    )
    if not ids:
        return None
    at, size, cache = start, 1, StreamCache(len(ids))
    first = 0
    while first < len(ids):
        chunk = ids[first : first + size]
        before = _before(cache, at, chunk)
        error = await _raised(store, projection, at, chunk, cache)
        if error is not None:
            return await _halved(store, projection, chunk, error, before)
        at, first, size = chunk[-1].feed_position, first + size, min(size * 2, CHUNK)
    return None


@dataclass(frozen=True, slots=True)
class _Before:
    """The streams of a chunk as the pass held them before applying it: what the halving
    starts from (folded streams are immutable, so holding them is a snapshot), so that it does
    not read them back from the store."""

    at: int
    held: dict[str, Folded]
    complete: bool  # the chunk's streams it does not hold have no event yet

    def cache(self) -> StreamCache:
        cache = StreamCache(max(len(self.held), 1))
        cache.align(self.at)
        cache.complete = self.complete
        for stream_id, folded in self.held.items():
            cache.put(stream_id, folded)
        return cache


def _before(cache: StreamCache, at: int, chunk: list[FeedIdentity]) -> _Before:
    if cache.position != at:  # a fresh cache: it starts at `at`
        return _Before(at, {}, at == 0)
    held = {e.stream_id: f for e in chunk if (f := cache.get(e.stream_id)) is not None}
    return _Before(at, held, cache.complete)


async def _halved(
    store: EventStore,
    projection: Projection,
    chunk: list[FeedIdentity],
    error: BaseException,
    before: _Before,
) -> Poison:
    """The event of `chunk` (whose events, applied after `before.at`, raise `error`) that
    raises."""
    applied, failing = 0, len(chunk)
    while failing - applied > 1:
        middle = (applied + failing) // 2
        raised = await _raised(store, projection, before.at, chunk[:middle], before.cache())
        if raised is None:
            applied = middle
        else:
            failing, error = middle, raised
    bad = chunk[failing - 1]
    return Poison(bad.feed_position, bad.event_id, bad.stream_id, bad.type, error)


async def _raised(
    store: EventStore,
    projection: Projection,
    start: int,
    events: list[FeedIdentity],
    cache: StreamCache,
) -> BaseException | None:
    """What applying these events (the first ones after `start`) raises, if it is theirs;
    `cache` holds the streams as of `start` and is brought to the last event."""
    try:
        batch = await read_batch(
            store, start, events[-1].feed_position,
            stream_types=(projection.stream_type,), limit=len(events),
        )  # fmt: skip
        await advance(store, projection, cache, batch.events, start=start, end=batch.end)
    except Exception as e:
        if not is_the_events(e):
            raise
        return e
    return None

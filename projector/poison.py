"""Finding the event a projection cannot apply: when reading, decoding, folding or rendering a
batch raises, which event of the projection's streams is the first that does.

The batch is tried again for that projection alone, on prefixes of its events (each from the
batch's start, with folded streams of its own, through the same read and fold as the runner's):
1, 2, 4, ... events until a prefix raises, then halving between the last prefix that applied
and the first that did not. Event N is the last of the shortest prefix that raises: the events
before it apply, so the projection can stop at N - 1 with nothing skipped. That costs about
log2(k) reads and folds of at most 2k events, k being N's rank in the batch: a retry, whose
batch starts just before N, finds it in one or two tries.
"""

from __future__ import annotations

from eventstore import EventStore, FeedIdentity
from projector.failures import Poison, is_the_events
from projector.feed import read_batch
from projector.states import StreamCache, advance
from readmodels.schema import Projection


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
    applied, failing = 0, 1
    while (error := await _raised(store, projection, start, ids[:failing])) is None:
        if failing == len(ids):
            return None
        applied, failing = failing, min(failing * 2, len(ids))
    while failing - applied > 1:
        middle = (applied + failing) // 2
        raised = await _raised(store, projection, start, ids[:middle])
        if raised is None:
            applied = middle
        else:
            failing, error = middle, raised
    bad = ids[failing - 1]
    return Poison(bad.feed_position, bad.event_id, bad.stream_id, bad.type, error)


async def _raised(
    store: EventStore, projection: Projection, start: int, events: list[FeedIdentity]
) -> BaseException | None:
    """What applying these events (the first ones after `start`) raises, if it is theirs."""
    try:
        batch = await read_batch(
            store, start, events[-1].feed_position,
            stream_types=(projection.stream_type,), limit=len(events),
        )  # fmt: skip
        cache = StreamCache(len(events))
        await advance(store, projection, cache, batch.events, start=start, end=batch.end)
    except Exception as e:
        if not is_the_events(e):
            raise
        return e
    return None

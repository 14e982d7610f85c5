"""The feed as projections read it: the event store's pages of their stream types, decoded into
domain events by the one codec (`domain.codec`), and streams read back with feed positions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from domain.codec import decode
from domain.events import Event
from eventstore import EventStore


@dataclass(frozen=True, slots=True)
class FeedEvent:
    position: int
    stream_id: str
    stream_type: str
    version: int
    event: Event


@dataclass(frozen=True, slots=True)
class FeedBatch:
    events: list[FeedEvent]
    end: int  # the feed position the batch covers up to, events of other types included
    end_hash: bytes | None  # the feed's hash there


async def read_batch(
    store: EventStore, after: int, upto: int, *, stream_types: Sequence[str], limit: int
) -> FeedBatch:
    """Events of `stream_types` in feed order, after `after` and at most `upto`."""
    page = await store.read_feed_page(after, upto, stream_types=stream_types, limit=limit)
    events = [
        FeedEvent(e.feed_position, e.stream_id, e.stream_type, e.version, decode(e.type, e.data))
        for e in page.entries
    ]
    return FeedBatch(events, page.end, page.end_hash)


@dataclass(frozen=True, slots=True)
class StreamEvent:
    version: int
    feed_position: int | None  # None: committed, not sequenced yet
    event: Event


async def read_streams(store: EventStore, up_to: Mapping[str, int]) -> dict[str, list[StreamEvent]]:
    """Streams from their first event up to a version each, with the feed position of every
    event (what a runner needs to fold a stream it does not hold as of a feed position)."""
    entries = await store.read_stream_entries(up_to)
    return {
        stream: [StreamEvent(e.version, e.feed_position, decode(e.type, e.data)) for e in events]
        for stream, events in entries.items()
    }

"""The auditors' view of one entity, from the event store (never from the read models).

An entity's history is its stream. Addresses and order lines live in their owner's stream
(a client's, an order's) and may move from one owner to another, so theirs is every event, in any
stream that ever held them, that names them: added, changed, removed, or the owner's deletion.
State as of a time or a feed position is the stream cut there and replayed through the domain's
`evolve`, then rendered by the same document functions (`Entity.documents`) the projections use.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain import codec, streams
from domain.catalogue import BY_NAME, DECIDERS
from domain.decider import fold
from domain.entity import Document, Entity, Owner
from eventstore import EventStore, Mention, RecordedEvent

Cut = datetime | int  # a time (recorded_at) or a feed position


async def read_history(store: EventStore, resource: str, id_key: int) -> list[RecordedEvent]:
    """The entity's events in commit order (empty: it never existed)."""
    entity = BY_NAME[resource]
    if entity.owner is None:
        stream = streams.stream_id(entity.kind, id_key)
        return await store.read_stream(stream, with_feed_positions=True)
    owner = entity.owner
    found: list[RecordedEvent] = []
    for stream in await _holders(store, entity, owner, id_key):
        events = await store.read_stream(stream, with_feed_positions=True)
        found.extend(e for e in events if _concerns(owner, id_key, e))
    return sorted(found, key=_commit_order)


async def read_as_of(store: EventStore, resource: str, id_key: int, cut: Cut) -> Document | None:
    """The entity's document as it was at `cut` (None: it did not exist then, or was deleted)."""
    entity = BY_NAME[resource]
    holders = (
        [streams.stream_id(entity.kind, id_key)]
        if entity.owner is None
        else await _holders(store, entity, entity.owner, id_key)
    )
    for stream in holders:
        state = await _state_at(store, stream, cut)
        for doc in entity.documents(state):
            if doc["id_key"] == id_key:
                return doc
    return None


async def _state_at(store: EventStore, stream: str, cut: Cut) -> Any:
    if isinstance(cut, datetime):
        events = await store.read_stream(stream, as_of=cut, with_feed_positions=True)
    else:
        events = [
            e
            for e in await store.read_stream(stream, with_feed_positions=True)
            if e.feed_position is not None and e.feed_position <= cut
        ]
    kind, _ = streams.parse_stream_id(stream)
    return _replay(kind, events)


def _replay(kind: str, events: Iterable[RecordedEvent]) -> Any:
    return fold(DECIDERS[kind], (codec.decode(e.type, e.data) for e in events))


def _concerns(owner: Owner, id_key: int, event: RecordedEvent) -> bool:
    if event.type in {cls.type_name for cls in owner.events}:
        return bool(event.data.get("id_key") == id_key)
    if event.type == owner.deleted.type_name:
        return id_key in event.data.get(owner.ids_field, ())
    return False


def _commit_order(event: RecordedEvent) -> tuple[bool, int, int]:
    """Feed order; events the sequencer has not reached yet come last, in insertion order."""
    return event.feed_position is None, event.feed_position or 0, event.global_position


async def _holders(store: EventStore, entity: Entity, owner: Owner, id_key: int) -> list[str]:
    """The streams that ever named the sub-entity; their events are then read (and upcast)
    through the store and filtered by `_concerns`."""
    return await store.streams_mentioning(
        entity.kind,
        [
            Mention(tuple(cls.type_name for cls in owner.events), "id_key", id_key),
            Mention((owner.deleted.type_name,), owner.ids_field, id_key, listed=True),
        ],
    )

"""The auditors' view of one entity, from the event store (never from the read models).

An entity's history is its stream. Addresses and order lines live in their owner's stream
(a client's, an order's) and may move from one owner to another, so theirs is every event, in any
stream that ever held them, that names them: added, changed, removed, or the owner's deletion.
State as of a time or a feed position is the stream cut there and replayed through the domain's
`evolve`, then rendered by the same `domain.documents` functions the projections use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout

from domain import codec, documents, streams
from domain.aggregates import DECIDERS
from domain.client import AddressAdded, AddressChanged, AddressRemoved, ClientDeleted
from domain.decider import fold
from domain.order import OrderDeleted, OrderLineAdded, OrderLineChanged, OrderLineRemoved
from eventstore import EventStore, RecordedEvent, StoreUnavailableError

Cut = datetime | int  # a time (recorded_at) or a feed position
Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Owned:
    """A sub-entity kept in its owner's stream."""

    events: frozenset[str]  # the owner's events about one of them, by `data["id_key"]`
    owner_deleted: str  # the owner's deletion, which lists them under `ids_field`
    ids_field: str
    documents: Callable[[Any], list[Document]]


@dataclass(frozen=True, slots=True)
class Entity:
    kind: str  # the stream kind that holds it
    document: Callable[[Any], Document | None] | None = None
    owned: Owned | None = None


ENTITIES: dict[str, Entity] = {
    "categories": Entity(streams.CATEGORY, documents.category_document),
    "products": Entity(streams.PRODUCT, documents.product_document),
    "clients": Entity(streams.CLIENT, documents.client_document),
    "bills": Entity(streams.BILL, documents.bill_document),
    "orders": Entity(streams.ORDER, documents.order_document),
    "reviews": Entity(streams.REVIEW, documents.review_document),
    "addresses": Entity(
        streams.CLIENT,
        owned=Owned(
            frozenset(e.type_name for e in (AddressAdded, AddressChanged, AddressRemoved)),
            ClientDeleted.type_name,
            "address_ids",
            documents.address_documents,
        ),
    ),
    "order_details": Entity(
        streams.ORDER,
        owned=Owned(
            frozenset(e.type_name for e in (OrderLineAdded, OrderLineChanged, OrderLineRemoved)),
            OrderDeleted.type_name,
            "line_ids",
            documents.order_detail_documents,
        ),
    ),
}


async def read_history(store: EventStore, resource: str, id_key: int) -> list[RecordedEvent]:
    """The entity's events in commit order (empty: it never existed)."""
    entity = ENTITIES[resource]
    if entity.owned is None:
        stream = streams.stream_id(entity.kind, id_key)
        return await store.read_stream(stream, with_feed_positions=True)
    owned = entity.owned
    found: list[RecordedEvent] = []
    for stream in await _holders(store, entity.kind, owned, id_key):
        events = await store.read_stream(stream, with_feed_positions=True)
        found.extend(e for e in events if _concerns(owned, id_key, e))
    return sorted(found, key=_commit_order)


async def read_as_of(store: EventStore, resource: str, id_key: int, cut: Cut) -> Document | None:
    """The entity's document as it was at `cut` (None: it did not exist then, or was deleted)."""
    entity = ENTITIES[resource]
    if entity.owned is None:
        assert entity.document is not None
        state = await _state_at(store, streams.stream_id(entity.kind, id_key), cut)
        return entity.document(state)
    owned = entity.owned
    for stream in await _holders(store, entity.kind, owned, id_key):
        state = await _state_at(store, stream, cut)
        for doc in owned.documents(state):
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


def _concerns(owned: Owned, id_key: int, event: RecordedEvent) -> bool:
    if event.type in owned.events:
        return bool(event.data.get("id_key") == id_key)
    if event.type == owned.owner_deleted:
        return id_key in event.data.get(owned.ids_field, ())
    return False


def _commit_order(event: RecordedEvent) -> tuple[bool, int, int]:
    """Feed order; events the sequencer has not reached yet come last, in insertion order."""
    return event.feed_position is None, event.feed_position or 0, event.global_position


# Narrows the search to the streams that ever named the sub-entity; the events themselves are
# then read (and upcast) through the store and filtered by `_concerns`. Auditor-only: it scans
# the owner kind's events (no index on the data), which a busy store would want indexed.
_HOLDERS = (
    "SELECT DISTINCT stream_id FROM events WHERE stream_type = %(kind)s AND ("
    "(event_type = ANY(%(types)s) AND data->>'id_key' = %(id)s)"
    " OR (event_type = %(deleted)s AND data->%(ids_field)s @> %(id_list)s::jsonb))"
    " ORDER BY stream_id"
)


async def _holders(store: EventStore, kind: str, owned: Owned, id_key: int) -> list[str]:
    params = {
        "kind": kind,
        "types": sorted(owned.events),
        "id": str(id_key),
        "deleted": owned.owner_deleted,
        "ids_field": owned.ids_field,
        "id_list": f"[{id_key}]",
    }
    try:
        async with store.pool.connection() as conn:
            cur = await conn.execute(_HOLDERS, params)
            return [row[0] for row in await cur.fetchall()]
    except (psycopg.OperationalError, PoolTimeout) as e:
        raise StoreUnavailableError(f"database unavailable: {e}") from e

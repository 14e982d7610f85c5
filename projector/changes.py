"""The pure step of every projection: a stream's events move its state, and the documents that
changed become the changes to write. No I/O here; the runner feeds it and the sinks write it.

A stream is held as `Folded`: its version, its state and the documents that state renders. The
events of one stream within a batch are folded together and the documents rendered once, after
them: a product that sold a hundred units in a batch is rendered once, not a hundred times.
Documents that differ from those held become upserts; documents that disappear become deletions
(a deleted client takes its addresses with it). Every change carries the feed position of the
stream's last event in the batch: the document is exactly the entity as of that position, which
is what the sinks compare to never move a row or key back.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import orjson

from domain import catalogue
from domain.decider import fold
from domain.entity import Document
from domain.events import Event
from readmodels.schema import Projection, Table

# table name -> id_key -> document
Documents: TypeAlias = Mapping[str, Mapping[int, Document]]


@dataclass(frozen=True, slots=True)
class Change:
    """Write `document` (None: delete) as row/key `id_key` of `table`, as of feed `position`."""

    table: str
    id_key: int
    document: Document | None
    position: int


@dataclass(frozen=True, slots=True)
class Folded:
    """A stream as the projector holds it: its state after `version` events, and its documents."""

    version: int
    state: Any
    documents: Documents


# The deciders the projector folds with: live, in a rebuild's runner and in its bulk loaders (one
# seam, where a test puts a projection that raises).
DECIDERS = catalogue.DECIDERS


def render(projection: Projection, state: Any) -> Documents:
    """Every document a stream's state contributes, by table."""
    return {
        table.name: {d["id_key"]: d for d in table.entity.documents(state)}
        for table in projection.tables
    }


@functools.cache
def initial(projection: Projection) -> Folded:
    state = DECIDERS[projection.stream_type].initial_state
    return Folded(0, state, render(projection, state))


def replay(projection: Projection, events: Iterable[Event]) -> Folded:
    """A stream folded from its first event (what a cache miss costs)."""
    events = list(events)
    state = fold(DECIDERS[projection.stream_type], events)
    return Folded(len(events), state, render(projection, state))


def apply(
    projection: Projection, folded: Folded, events: Sequence[Event], position: int
) -> tuple[Folded, list[Change]]:
    """The stream after its next `events` (the last of them at feed `position`), and the
    documents they changed."""
    state = fold(DECIDERS[projection.stream_type], events, folded.state)
    after = render(projection, state)
    changed = diff(folded.documents, after, position)
    return Folded(folded.version + len(events), state, after), changed


def diff(before: Documents, after: Documents, position: int) -> list[Change]:
    changes = []
    for table, documents in after.items():
        old = before.get(table, {})
        changes += [
            Change(table, id_key, doc, position)
            for id_key, doc in documents.items()
            if old.get(id_key) != doc
        ]
        changes += [Change(table, i, None, position) for i in old if i not in documents]
    return changes


def merge(changes: Iterable[Change]) -> list[Change]:
    """One change per row. Two changes of one row in a batch come from two streams: an address
    (or an order line) moved from one client (order) to another. A moved document is in one
    stream at a time, so the one still present is the entity's state; it stands as of the later
    of the two positions, since the other stream no longer holds it by then."""
    merged: dict[tuple[str, int], Change] = {}
    for change in changes:
        key = (change.table, change.id_key)
        held = merged.get(key)
        if held is None:
            merged[key] = change
            continue
        present = change if change.document is not None else held
        position = max(held.position, change.position)
        merged[key] = Change(change.table, change.id_key, present.document, position)
    return list(merged.values())


@dataclass(frozen=True, slots=True)
class Row:
    """A change as both sinks write it: the document's JSON bytes (exactly as served) and its
    filter values (PostgreSQL columns; Redis index sets)."""

    id_key: int
    doc: bytes | None  # None: deleted
    position: int
    filters: tuple[Any, ...]  # in the order of `Table.filters`


def encode(table: Table, change: Change) -> Row:
    doc = change.document
    _storable(table, "id_key", "bigint", change.id_key)
    if doc is None:
        return Row(change.id_key, None, change.position, ())
    return row(table, doc, change.position)


def row(table: Table, doc: Document, position: int) -> Row:
    """A document as both sinks write it, standing at feed `position`."""
    names, ranged = _columns(table)
    filters = tuple([doc[name] for name in names])
    for n, kind in ranged:
        _storable(table, names[n], kind, filters[n])
    return Row(doc["id_key"], orjson.dumps(doc), position, filters)


# The integer columns' ranges. A value out of range would fail the PostgreSQL transaction of a
# whole batch, every projection's rows in it; refused here, in the fold, it stops only the
# projection whose event made it (`runner`). Documents are text and the other filters booleans:
# PostgreSQL takes any value of those.
_BOUNDS = {"bigint": 2**63, "integer": 2**31}


@functools.cache
def _columns(table: Table) -> tuple[tuple[str, ...], tuple[tuple[int, str], ...]]:
    """The names of `table`'s filter columns, and the place and type of its integer ones: what
    `row` reads of the table, once per row of a rebuild's millions."""
    names = tuple(name for name, _ in table.filters)
    return names, tuple((n, kind) for n, (_, kind) in enumerate(table.filters) if kind in _BOUNDS)


def _storable(table: Table, name: str, kind: str, value: Any) -> None:
    bound = _BOUNDS.get(kind)
    if bound is not None and value is not None and not -bound <= value < bound:
        raise ValueError(f"{table.name}.{name} = {value} is out of range for a {kind} column")

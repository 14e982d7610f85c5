"""The catalogue's declarations: what each aggregate and each entity is, written once beside its
decider and read by every service (routes, read-model tables, documents, history).

    Aggregate   one stream kind: its decider, its events, its claims, its commands' specs and
                the entities its streams hold (the first is the stream's own)
    Entity      one REST resource: its document, request bodies, commands, list filters and
                read-model indexes, its id sequence, which fields hold personal data, and, for
                one kept inside another entity's stream, that `Owner`

Nothing here does I/O; the services build their routes, tables and views from these values.
"""

import datetime as dt
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, TypeAlias

from pydantic import BaseModel, ConfigDict

from domain.claims import Claim
from domain.decider import Decider
from domain.decision import Spec
from domain.events import Event

Document: TypeAlias = dict[str, Any]
Claims: TypeAlias = tuple[list[Claim], list[Claim]]  # (taken, released)


class ListFilters(BaseModel):
    """A list's query filters; unknown query parameters are ignored, as the original did."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    def fields(self) -> dict[str, Any]:
        """The read-model filter fields and values this query asks for."""
        return {name: int(value) for name, value in self.model_dump(exclude_none=True).items()}


class NoFilters(ListFilters):
    pass


@dataclass(frozen=True, slots=True)
class Owner:
    """An entity kept inside another entity's stream (an address in its client's)."""

    reference: str  # the field naming the holder on the entity's commands: "client_id"
    locator: str  # the claim scope that finds the holding stream from the entity's id
    events: tuple[type[Event], ...]  # the holder's events about one of them (by `id_key`)
    deleted: type[Event]  # the holder's deletion, which takes every one of them with it
    ids_field: str  # ... listing their ids in this field


def _unchanged(fields: dict[str, Any], _now: dt.datetime) -> dict[str, Any]:
    return fields


@dataclass(frozen=True, slots=True)
class Entity:
    name: str  # the path without slash and the read-model table: "order_details"
    noun: str  # in messages: "OrderDetail with id 3 not found"
    tag: str  # the OpenAPI tag
    kind: str  # the stream kind that holds it
    sequence: str  # the id sequence new ones draw from
    documents: Callable[[Any], Sequence[Document]]  # a holding stream's state -> its documents
    document: type[BaseModel]  # the document's OpenAPI model
    create_body: type[BaseModel]
    change_body: type[BaseModel]
    create: type[Any]  # the commands a POST, a PUT and a DELETE become
    change: type[Any]
    delete: type[Any]
    filters: type[ListFilters] = NoFilters  # a list's query parameters
    indexed: tuple[str, ...] = ()  # document fields the read models filter on
    shapes: tuple[tuple[str, ...], ...] = ()  # each combination of them with its own index
    owner: Owner | None = None
    personal: frozenset[str] = frozenset()  # document fields that identify a person
    ignored: frozenset[str] = frozenset()  # body fields accepted for compatibility, unused
    fill: Callable[[dict[str, Any], dt.datetime], dict[str, Any]] = _unchanged

    @property
    def path(self) -> str:
        return f"/{self.name}"

    def columns(self) -> tuple[tuple[str, str], ...]:
        """The indexed fields with their PostgreSQL column types, from the document model."""
        hints = typing.get_type_hints(self.document)
        return tuple((name, _column_type(hints[name])) for name in self.indexed)

    def find(self, states: Mapping[str, Any], id_key: int) -> tuple[Document, str] | None:
        """The entity's document among streams' states, and the stream that holds it."""
        for stream, state in states.items():
            if stream.rpartition("-")[0] == self.kind:
                for document in self.documents(state):
                    if document["id_key"] == id_key:
                        return document, stream
        return None


def _column_type(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        (hint,) = (arg for arg in typing.get_args(hint) if arg is not type(None))
    if hint is bool:
        return "boolean"
    if isinstance(hint, type) and issubclass(hint, IntEnum):
        return "integer"
    if hint is int:
        return "bigint"
    raise TypeError(f"no read-model column type for {hint!r}")


def _no_claims(_event: Event) -> Claims:
    return [], []


@dataclass(frozen=True, slots=True)
class Aggregate:
    kind: str
    decider: Decider[Any, Any, Any]
    state: type[Any]  # what `decider` folds a stream into (None before its first event)
    events: tuple[type[Event], ...]
    entities: tuple[Entity, ...]  # the stream's own entity first, then those it holds
    commands: tuple[Spec, ...]
    claims: Callable[[Event], Claims] = _no_claims  # what an event takes and releases
    # claim scope -> (message with {} for the value, code) of the 409 when it is taken
    uniques: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    personal_claims: frozenset[str] = frozenset()  # claim scopes whose values identify a person

    @property
    def entity(self) -> Entity:
        """The entity whose stream this is (a product's, not an address kept in a client's)."""
        return self.entities[0]

    @property
    def personal(self) -> frozenset[str]:
        """The field names that hold personal data in its events and states: its entities'
        personal fields, and the `previous_` values events carry of them."""
        fields = frozenset().union(*(e.personal for e in self.entities))
        return fields | {f"previous_{name}" for name in fields}

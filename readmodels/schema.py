"""The read models' shape: the contract between the projector (which writes them) and the query
API (which reads them), derived from the catalogue (`domain.catalogue`). Nothing here does I/O.

Each aggregate's streams feed one projection, named for the aggregate's own entity, which owns
a read-model table per entity those streams hold (the clients projection: clients and
addresses). A projection is rebuilt as a whole: a rebuild writes a new *generation* beside the
live one and switches the pointer when it has caught up.

PostgreSQL, per table: `rm_<table>` (created by a migration: the schema never changes at run
time) with columns generation integer, id_key bigint, doc text (the exact JSON bytes served),
position bigint (the feed position the document stands at: the entity as of that position, at
or after the event that last changed it), and one column per filter field;
primary key (generation, id_key), one index (generation, <shape fields>, id_key) per shape.
Partitioned by list of generation: generation n is the table `rm_<table>_g<n>`. A rebuild loads
the next generation into that table on its own (COPY, no index), attaches it as a partition
(indexes built then, one sort each) and, after the switch, drops the old one (`DROP TABLE`).
`projection_checkpoints(name, position, generation)` holds each projection's live generation and
how far it has applied the feed (moved in the same transaction as the rows).

Redis, per table and generation (prefix `rm:{<projection>:g<generation>}:<table>:`, spelled by
`readmodels.keys`, whose hash tag keeps a generation in one Redis Cluster slot):
    docs                  hash id_key -> the document's JSON bytes, exactly as served
    pos                   hash id_key -> feed position of the document (or of its deletion), so
                          a late or replayed write never moves a key back
    index                 sorted set, every score 0, of `<index name>\0<id_key, zero-padded>`:
                          each document once under `all` and once per index shape below,
                          named `<f>=<v>[:<f>=<v>]`; an index is one lexicographic range of it,
                          in id order
    sets                  hash id_key -> the index names the document is in, space-separated:
                          the projector's own bookkeeping, so that a document that changes its
                          filter values leaves its old entries (not for readers)
`rm:live:<projection>` holds the live generation (the query API reads it; absent = 1).
`rm:{<projection>:g<generation>}:applied:v<layout>` is the feed position up to which the Redis
documents of that generation are written (set after them): what read-your-writes waits for on
the Redis path, as `projection_checkpoints.position` is on the PostgreSQL path. While it is
absent, the Redis documents of that generation are incomplete (never written, flushed, being
reloaded from PostgreSQL, or written in an older layout) and must not be served: readers go to
PostgreSQL. A rebuild points `rm:live` at its generation as it switches PostgreSQL to it, before
Redis holds any of it (no applied position: readers go to PostgreSQL), and loads Redis then
(`projector.warming`).

Positions are feed positions (`feed.feed_position`), not the events' global positions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.catalogue import AGGREGATES
from domain.entity import Entity
from readmodels import keys
from readmodels.keys import applied_key, live_generation_key

__all__ = ["PROJECTIONS", "PROJECTION_OF", "TABLES", "Projection", "Table", "applied_key",
           "index_value", "live_generation_key"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Table:
    entity: Entity  # whose documents the table holds
    name: str  # the resource path without slash: "order_details"
    filters: tuple[tuple[str, str], ...]  # (field, PostgreSQL type) the query API filters on
    # index shapes: each tuple of filter fields gets an index per value combination
    shapes: tuple[tuple[str, ...], ...]
    projection: str  # the projection that owns the table (its keys carry that one's hash tag)
    # each shape's index name as a format of the filter values by place ("client_id={0}"): what
    # `index_names_of` fills per row
    _formats: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        place = {name: n for n, (name, _) in enumerate(self.filters)}
        formats = (":".join(f"{f}={{{place[f]}}}" for f in shape) for shape in self.shapes)
        object.__setattr__(self, "_formats", tuple(formats))

    def __hash__(self) -> int:
        # A table keys the loaders' rows once per stream: the hash of every field would walk its
        # entity's whole declaration each time. Its name is enough: equal tables have equal names.
        return hash(self.name)

    @classmethod
    def of(cls, entity: Entity, projection: str) -> Table:
        return cls(entity, entity.name, entity.columns(), entity.shapes, projection)

    @property
    def pg_table(self) -> str:
        return f"rm_{self.name}"

    def pg_partition(self, generation: int) -> str:
        """The generation's own table: a partition of `pg_table` once complete, dropped whole."""
        return f"rm_{self.name}_g{generation}"

    def redis_prefix(self, generation: int) -> str:
        return keys.table_prefix(self.projection, self.name, generation)

    def index_names(self, doc: dict[str, Any]) -> list[str]:
        """The indexes a document is in, by name."""
        shaped = (":".join(f"{f}={index_value(doc[f])}" for f in s) for s in self.shapes)
        return ["all", *shaped]

    def index_names_of(self, filters: tuple[Any, ...]) -> list[str]:
        """`index_names` from the document's filter values, in the order of `filters`."""
        # the same names as `index_names`, without a dict per row (a rebuild writes millions)
        values = [str(v) if type(v) is int else index_value(v) for v in filters]  # ids, mostly
        return ["all", *[shape.format(*values) for shape in self._formats]]

    def index_name(self, filters: dict[str, Any]) -> str:
        """The index serving a query with exactly these filters (`all`, when none)."""
        if not filters:
            return "all"
        shape = tuple(f for f, _ in self.filters if f in filters)
        if shape not in self.shapes:
            raise KeyError(f"no index of {self.name} for filters {sorted(filters)}")
        return ":".join(f"{f}={index_value(filters[f])}" for f in shape)


def index_value(value: Any) -> str:
    """How a filter value is spelled in a key: ints as digits, booleans as 0/1."""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


@dataclass(frozen=True, slots=True)
class Projection:
    name: str
    stream_type: str  # the events it reads: those of this stream kind
    tables: tuple[Table, ...]

    def __hash__(self) -> int:
        return hash(self.name)  # as a table's: a cache key once per stream in a rebuild


PROJECTIONS: tuple[Projection, ...] = tuple(
    Projection(a.entity.name, a.kind, tuple(Table.of(e, a.entity.name) for e in a.entities))
    for a in AGGREGATES
)
TABLES: dict[str, Table] = {t.name: t for p in PROJECTIONS for t in p.tables}
PROJECTION_OF: dict[str, Projection] = {t.name: p for p in PROJECTIONS for t in p.tables}

"""The fallback: the PostgreSQL read models, the same bytes as Redis holds.

Each read is one statement that also reads the projection's checkpoint (its live generation and
the feed position its rows reflect, moved in the same transaction as the rows), so the rows and
the position reported with them always belong together. A page is assembled by the database
(`string_agg` of the stored documents), never decoded here.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg import sql

from eventstore import EventStore, StoreUnavailableError
from query_api.errors import ReadModelsUnavailableError
from query_api.reads import Page, Read
from readmodels.schema import PROJECTION_OF, Table

CONNECT_SECONDS = 2.0  # waiting longer for a pooled connection only delays the 503

# One row even when the projection has never run: generation 1, position 0.
_CHECKPOINT = sql.SQL(
    "SELECT coalesce(max(generation), 1) AS generation, coalesce(max(position), 0) AS position"
    " FROM projection_checkpoints WHERE name = %(projection)s"
)


@functools.cache
def _one_statement(table: str) -> sql.Composed:
    return sql.SQL(
        "SELECT c.position, r.doc FROM ({checkpoint}) c LEFT JOIN {table} r"
        " ON r.generation = c.generation AND r.id_key = %(id_key)s"
    ).format(checkpoint=_CHECKPOINT, table=sql.Identifier(table))


@functools.cache
def _page_statement(table: str, fields: tuple[str, ...]) -> sql.Composed:
    where = sql.SQL("").join(
        sql.SQL(" AND r.{} = {}").format(sql.Identifier(f), sql.Placeholder(f)) for f in fields
    )
    return sql.SQL(
        "SELECT c.position, '[' || coalesce(string_agg(p.doc, ',' ORDER BY p.id_key), '') || ']'"
        " FROM ({checkpoint}) c LEFT JOIN LATERAL ("
        "SELECT r.doc, r.id_key FROM {table} r WHERE r.generation = c.generation{where}"
        " ORDER BY r.id_key OFFSET %(skip)s LIMIT %(limit)s) p ON true GROUP BY c.position"
    ).format(checkpoint=_CHECKPOINT, table=sql.Identifier(table), where=where)


class PostgresSource:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    async def one(self, table: Table, id_key: int) -> Read:
        params = {"projection": PROJECTION_OF[table.name].name, "id_key": id_key}
        position, doc = await self._row(_one_statement(table.pg_table), params)
        return Read(None if doc is None else doc.encode(), "postgres", position)

    async def page(self, page: Page) -> Read:
        fields = tuple(f for f, _ in page.table.filters if f in page.filters)
        params = {
            "projection": PROJECTION_OF[page.table.name].name,
            "skip": page.skip,
            "limit": page.limit,
            **{f: page.filters[f] for f in fields},
        }
        position, body = await self._row(_page_statement(page.table.pg_table, fields), params)
        return Read(body.encode(), "postgres", position)

    async def position(self, projection: str) -> int:
        position, _ = await self._row(
            sql.SQL("SELECT c.position, c.generation FROM ({}) c").format(_CHECKPOINT),
            {"projection": projection},
        )
        return int(position)

    async def feed_position(self, global_position: int) -> int | None:
        """The feed position the sequencer gave an event (None: not sequenced yet)."""
        with _unavailable():
            return await self._store.feed_position_of(global_position)

    async def _row(self, statement: sql.Composed, params: dict[str, Any]) -> Sequence[Any]:
        async with self.connection() as conn:
            cur = await conn.execute(statement, params, prepare=True)
            row = await cur.fetchone()
        assert row is not None  # the checkpoint subquery always yields one row
        return tuple(row)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled connection; an unreachable database becomes ReadModelsUnavailableError.
        Other database errors (a missing table, a bug) stay what they are: a 500."""
        with _unavailable():
            async with self._store.connection(pool_wait=CONNECT_SECONDS) as conn:
                yield conn


@contextmanager
def _unavailable() -> Iterator[None]:
    try:
        yield
    except StoreUnavailableError as e:
        raise ReadModelsUnavailableError(str(e)) from e

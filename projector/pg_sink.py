"""The PostgreSQL sink: a batch's rows of one generation, in the transaction that also moves the
checkpoint (the runner opens it), so a batch is applied exactly once or not at all.

Small batches go as one pipelined `executemany`; large ones (a rebuild's) are copied into a
temporary table and merged with one `INSERT ... ON CONFLICT`, the fastest bulk upsert psycopg
offers. An upsert never replaces a row with an older one (`position` guard), so even a runner
that lost its lock could not move a row back.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Sequence
from typing import Any

import psycopg
from psycopg import sql

from projector.changes import Row
from readmodels.schema import Table

COPY_FROM_ROWS = 200  # below this, a pipelined executemany is faster than COPY + merge


@functools.cache
def _columns(table: Table) -> list[sql.Identifier]:
    names = ["generation", "id_key", "doc", "position", *(f for f, _ in table.filters)]
    return [sql.Identifier(n) for n in names]


@functools.cache
def _upsert(table: Table, source: str) -> sql.Composed:
    """INSERT ... ON CONFLICT into the table, from VALUES or from the staging table."""
    columns = _columns(table)
    updated = sql.SQL(", ").join(sql.SQL("{0} = excluded.{0}").format(c) for c in columns[2:])
    if source == "values":
        rows = sql.SQL("VALUES ({})").format(sql.SQL(", ").join(sql.Placeholder() * len(columns)))
    else:
        rows = sql.SQL("SELECT * FROM {}").format(sql.Identifier(_stage(table)))
    return sql.SQL(
        "INSERT INTO {table} ({columns}) {rows} ON CONFLICT (generation, id_key)"
        " DO UPDATE SET {updated} WHERE {table}.position < excluded.position"
    ).format(
        table=sql.Identifier(table.pg_table),
        columns=sql.SQL(", ").join(columns),
        rows=rows,
        updated=updated,
    )


def _stage(table: Table) -> str:
    return f"stage_{table.pg_table}"


async def save(
    conn: psycopg.AsyncConnection[Any], table: Table, generation: int, rows: Sequence[Row]
) -> None:
    """Write a batch's rows of one table; call inside the batch's transaction."""
    deleted = [r.id_key for r in rows if r.doc is None]
    values = [
        (generation, r.id_key, r.doc.decode(), r.position, *r.filters)
        for r in rows
        if r.doc is not None
    ]
    if deleted:
        await conn.execute(
            sql.SQL("DELETE FROM {} WHERE generation = %s AND id_key = ANY(%s)").format(
                sql.Identifier(table.pg_table)
            ),
            (generation, deleted),
            prepare=True,
        )
    if len(values) >= COPY_FROM_ROWS:
        await _copy(conn, table, values)
    elif values:
        async with conn.cursor() as cur:
            await cur.executemany(_upsert(table, "values"), values)


async def _copy(
    conn: psycopg.AsyncConnection[Any], table: Table, values: list[tuple[Any, ...]]
) -> None:
    stage = sql.Identifier(_stage(table))
    await conn.execute(
        sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} (LIKE {}) ON COMMIT DELETE ROWS").format(
            stage, sql.Identifier(table.pg_table)
        )
    )
    async with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(stage)) as copy:
        for value in values:
            await copy.write_row(value)
    await conn.execute(_upsert(table, "stage"))


async def drop_generation(
    conn: psycopg.AsyncConnection[Any], table: Table, generation: int
) -> None:
    """Drop a generation's rows: its partition goes whole (a catalogue change, whatever its
    size), attached or still being loaded."""
    await conn.execute(
        sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table.pg_partition(generation)))
    )


async def begin_load(conn: psycopg.AsyncConnection[Any], table: Table, generation: int) -> None:
    """A table of its own for the generation, outside the partitioned table and without indexes,
    for a bulk load by `copy_rows` (whatever an abandoned load left there goes first). The
    check constraint lets `end_load` attach it without scanning it again."""
    await drop_generation(conn, table, generation)
    await conn.execute(
        sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS, CHECK (generation = {}))").format(
            sql.Identifier(table.pg_partition(generation)),
            sql.Identifier(table.pg_table),
            sql.Literal(generation),
        )
    )


async def copy_rows(
    conn: psycopg.AsyncConnection[Any], table: Table, generation: int, rows: Sequence[Row]
) -> None:
    """Append rows (documents, no deletions) to a generation being loaded: one COPY of text
    built here, which costs the client a join of bytes per row where `write_row` adapts every
    value on its own."""
    if not rows:
        return
    statement = sql.SQL("COPY {} FROM STDIN").format(sql.Identifier(table.pg_partition(generation)))
    async with conn.cursor().copy(statement) as copy:
        await copy.write(copy_text(generation, rows))


def copy_text(generation: int, rows: Sequence[Row]) -> bytes:
    """Rows in COPY's text format. The JSON holds no raw tab or newline (the encoder escapes
    control characters), so its backslashes are all that needs escaping."""
    head = b"%d\t" % generation
    lines = []
    for r in rows:
        assert r.doc is not None, "a bulk load writes documents only"
        doc = r.doc.replace(b"\\", b"\\\\") if b"\\" in r.doc else r.doc
        filters = b"".join(b"\t" + _copy_value(v) for v in r.filters)
        lines.append(b"%s%d\t%s\t%d%s\n" % (head, r.id_key, doc, r.position, filters))
    return b"".join(lines)


def _copy_value(value: Any) -> bytes:
    if value is None:
        return b"\\N"
    if isinstance(value, bool):
        return b"t" if value else b"f"
    return str(value).encode()


async def end_load(conn: psycopg.AsyncConnection[Any], table: Table, generation: int) -> None:
    """Attach a loaded generation as a partition: its primary key and shape indexes are built
    now, each in one sort of the whole table (cheaper than maintaining them row by row), while
    readers and writers of the other partitions go on (ATTACH takes a lock that lets them)."""
    await conn.execute(
        sql.SQL("ALTER TABLE {} ATTACH PARTITION {} FOR VALUES IN ({})").format(
            sql.Identifier(table.pg_table),
            sql.Identifier(table.pg_partition(generation)),
            sql.Literal(generation),
        )
    )


async def read_generation(
    conn: psycopg.AsyncConnection[Any], table: Table, generation: int, chunk: int = 5000
) -> AsyncIterator[list[Row]]:
    """Every row of a generation, in chunks (to load Redis from PostgreSQL). Run it inside a
    transaction: the server-side cursor lives in it."""
    fields = sql.SQL("").join(sql.SQL(", {}").format(c) for c in _columns(table)[4:])
    statement = sql.SQL("SELECT id_key, doc, position{} FROM {} WHERE generation = %s").format(
        fields, sql.Identifier(table.pg_table)
    )
    async with conn.cursor(name=f"read_{table.pg_table}") as cur:
        await cur.execute(statement, (generation,))
        while batch := await cur.fetchmany(chunk):
            yield [_row(record) for record in batch]


def _row(record: Sequence[Any]) -> Row:
    id_key, doc, position, *filters = record
    return Row(id_key, doc.encode(), position, tuple(filters))

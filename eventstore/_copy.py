"""Filling a new event store from an old one (`orders store copy`): events inserted as they were
(stream, version, id, type, schema version, recorded time; data and metadata as the copier gives
them), then sequenced by the new store's own sequencer into a chain of its own; data keys,
unique claims and the id sequences carried over.

Only INSERTs into `events`: nothing here updates or deletes a row of it, in either store. Each
page of events is one transaction, and every copied event names where it came from
(`metadata.copied_from.feed_position`), so an interrupted copy resumes after the newest event
the new store holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from eventstore._errors import EventStoreError
from eventstore._model import Claim, DataKey, RecordedEvent

COPIED_FROM = "copied_from"

# COPY, not INSERT ... unnest: the rows stream in one round trip without a parameter array to
# parse (2.3 times the rows/s of the unnest form, profiling the copy benchmark once)
_COPY_EVENTS = (
    "COPY events (stream_id, stream_type, version, event_id, event_type, schema_version, data,"
    " metadata, recorded_at) FROM STDIN"
)

_UPSERT_STREAMS = """
INSERT INTO streams AS s (stream_id, stream_type, version)
SELECT stream_id, stream_type, max(v) FROM unnest(%s::text[], %s::text[], %s::bigint[])
    AS e(stream_id, stream_type, v)
GROUP BY stream_id, stream_type
ON CONFLICT (stream_id) DO UPDATE SET version = greatest(s.version, excluded.version)
"""


async def insert_copies(
    conn: psycopg.AsyncConnection[Any], events: Sequence[RecordedEvent]
) -> None:
    """Events of another store, in its feed order, inserted in one transaction (their global
    positions follow the order given, so the sequencer keeps it)."""
    async with conn.transaction():
        async with conn.cursor().copy(_COPY_EVENTS) as copy:
            for e in events:
                await copy.write_row((
                    e.stream_id, e.stream_type, e.version, e.event_id, e.type, e.schema_version,
                    Jsonb(e.data), Jsonb(e.metadata), e.recorded_at,
                ))  # fmt: skip
        await conn.execute(
            _UPSERT_STREAMS,
            ([e.stream_id for e in events], [e.stream_type for e in events],
             [e.version for e in events]),
        )  # fmt: skip


async def last_copied(conn: psycopg.AsyncConnection[Any]) -> tuple[str, int] | None:
    """(database, feed position) the newest event here was copied from; None for an empty store.
    A store holding events of its own is no copy's target."""
    cur = await conn.execute(
        "SELECT metadata->%s FROM events ORDER BY global_position DESC LIMIT 1", (COPIED_FROM,)
    )
    row = await cur.fetchone()
    if row is None:
        return None
    origin = row[0]
    if not isinstance(origin, dict):
        raise EventStoreError("the store holds events that were not copied: not a copy's target")
    return str(origin["database"]), int(origin["feed_position"])


async def read_keys_page(
    conn: psycopg.AsyncConnection[Any], after: tuple[str, int], limit: int
) -> list[DataKey]:
    """Data keys, destroyed ones too (wrapped None), in (subject, generation) order after one."""
    cur = await conn.execute(
        "SELECT subject, generation, wrapped, master_id FROM data_keys"
        " WHERE (subject, generation) > (%s, %s) ORDER BY subject, generation LIMIT %s",
        (*after, limit),
    )
    return [
        DataKey(s, g, None if w is None else bytes(w), m) for s, g, w, m in await cur.fetchall()
    ]


async def insert_keys(conn: psycopg.AsyncConnection[Any], keys: Sequence[DataKey]) -> None:
    """Keys as the old store holds them; one destroyed there since an earlier run is destroyed
    here too, and a destroyed one never comes back. A generation the copy made here (for a
    subject that had no key) that the old store has since made too is refused: values sealed
    there would not open here (the old store was written to during the copy)."""
    columns = (
        [k.subject for k in keys],
        [k.generation for k in keys],
        [k.wrapped for k in keys],
        [k.master_id for k in keys],
    )
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO data_keys AS k (subject, generation, wrapped, master_id, destroyed_at)"
            " SELECT s, g, w, m, CASE WHEN w IS NULL THEN now() END"
            " FROM unnest(%s::text[], %s::integer[], %s::bytea[], %s::text[]) AS x(s, g, w, m)"
            " ON CONFLICT (subject, generation) DO UPDATE SET wrapped = NULL, destroyed_at = now()"
            " WHERE excluded.wrapped IS NULL AND k.wrapped IS NOT NULL",
            columns,
        )
        cur = await conn.execute(
            "SELECT x.s, x.g FROM unnest(%s::text[], %s::integer[], %s::bytea[]) AS x(s, g, w)"
            " JOIN data_keys k ON k.subject = x.s AND k.generation = x.g"
            " WHERE x.w IS NOT NULL AND k.wrapped IS DISTINCT FROM x.w LIMIT 1",
            columns[:3],
        )
        clash = await cur.fetchone()
        if clash is not None:  # raised inside: none of this page's keys are kept
            raise EventStoreError(
                f"key {clash[1]} of {clash[0]} differs in the two stores: the old one was written"
                " to during the copy. Stop every writer and copy again into a new, empty database"
            )


async def read_claims_page(
    conn: psycopg.AsyncConnection[Any], after: tuple[str, str], limit: int
) -> list[Claim]:
    cur = await conn.execute(
        "SELECT scope, value, owner_stream FROM unique_claims"
        " WHERE (scope, value) > (%s, %s) ORDER BY scope, value LIMIT %s",
        (*after, limit),
    )
    return [Claim(s, v, o) for s, v, o in await cur.fetchall()]


async def insert_claims(conn: psycopg.AsyncConnection[Any], claims: Sequence[Claim]) -> None:
    await conn.execute(
        "INSERT INTO unique_claims (scope, value, owner_stream)"
        " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[])"
        " ON CONFLICT (scope, value) DO NOTHING",
        ([c.scope for c in claims], [c.value for c in claims], [c.owner for c in claims]),
    )


_ID_SEQUENCES = (
    "SELECT sequencename, last_value FROM pg_sequences"
    " WHERE schemaname = current_schema() AND sequencename LIKE 'id\\_%'"
)


async def read_id_sequences(conn: psycopg.AsyncConnection[Any]) -> dict[str, int]:
    """Each entity's id sequence and the last id it gave (those that gave one)."""
    cur = await conn.execute(_ID_SEQUENCES)
    return {name: int(last) for name, last in await cur.fetchall() if last is not None}


async def advance_id_sequences(conn: psycopg.AsyncConnection[Any], last: dict[str, int]) -> None:
    """Each sequence past the old store's last id (never back), so no id is given twice."""
    held = await read_id_sequences(conn)
    for name, value in last.items():
        if value > held.get(name, 0):
            await conn.execute("SELECT setval(%s, %s)", (name, value))

"""Reading streams and the feed. Every read path goes through `decode`, which applies the
upcaster chain, so callers only ever see events at their current schema version."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeAlias

import psycopg

from eventstore._model import JSON, RecordedEvent, check_stream_id

# (event type, stored schema version, stored data) -> (current schema version, data)
Upcast: TypeAlias = Callable[[str, int, JSON], tuple[int, JSON]]


def no_upcast(_type: str, version: int, data: JSON) -> tuple[int, JSON]:
    return version, data


_COLUMNS = (
    "e.global_position, e.stream_id, e.stream_type, e.version, e.event_id, e.event_type,"
    " e.schema_version, e.data, e.metadata, e.recorded_at"
)


def decode(row: Sequence[Any], upcast: Upcast, feed_position: int | None = None) -> RecordedEvent:
    schema_version, data = upcast(row[5], row[6], row[7])
    return RecordedEvent(
        global_position=row[0],
        stream_id=row[1],
        stream_type=row[2],
        version=row[3],
        event_id=row[4],
        type=row[5],
        schema_version=schema_version,
        data=data,
        metadata=row[8],
        recorded_at=row[9],
        feed_position=feed_position,
    )


async def read_stream(
    conn: psycopg.AsyncConnection[Any],
    upcast: Upcast,
    stream_id: str,
    *,
    to_version: int | None = None,
    as_of: datetime | None = None,
    with_feed_positions: bool = False,
) -> list[RecordedEvent]:
    check_stream_id(stream_id)
    feed = "f.feed_position" if with_feed_positions else "NULL::bigint"
    join = "LEFT JOIN feed f USING (global_position)" if with_feed_positions else ""
    cur = await conn.execute(
        f"SELECT {_COLUMNS}, {feed} FROM events e {join}"  # noqa: S608 - fixed fragments only
        " WHERE e.stream_id = %s AND (%s::bigint IS NULL OR e.version <= %s)"
        " AND (%s::timestamptz IS NULL OR e.recorded_at <= %s) ORDER BY e.version",
        (stream_id, to_version, to_version, as_of, as_of),
    )
    return [decode(row, upcast, row[10]) for row in await cur.fetchall()]


async def read_streams(
    conn: psycopg.AsyncConnection[Any], upcast: Upcast, stream_ids: Sequence[str]
) -> dict[str, list[RecordedEvent]]:
    """Several whole streams in one round trip (what a multi-stream command loads)."""
    for stream_id in stream_ids:
        check_stream_id(stream_id)
    cur = await conn.execute(
        f"SELECT {_COLUMNS} FROM events e WHERE e.stream_id = ANY(%s)"  # noqa: S608
        " ORDER BY e.stream_id, e.version",
        (list(stream_ids),),
        prepare=True,
    )
    out: dict[str, list[RecordedEvent]] = {s: [] for s in stream_ids}
    for row in await cur.fetchall():
        out[row[1]].append(decode(row, upcast))
    return out


async def read_feed(
    conn: psycopg.AsyncConnection[Any], upcast: Upcast, after: int, limit: int
) -> list[RecordedEvent]:
    """Events in commit order: feed positions after..after+limit."""
    cur = await conn.execute(
        f"SELECT {_COLUMNS}, f.feed_position FROM feed f"  # noqa: S608
        " JOIN events e USING (global_position)"
        " WHERE f.feed_position > %s ORDER BY f.feed_position LIMIT %s",
        (after, limit),
        prepare=True,
    )
    return [decode(row, upcast, row[10]) for row in await cur.fetchall()]

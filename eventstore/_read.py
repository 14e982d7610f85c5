"""Reading streams and the feed. Every read path applies the upcaster chain and then opens the
personal data sealed in the events (`Unseal`: given by whoever opens the store; without it the
data stays as stored), so callers only ever see events at their current schema version, with the
personal values of people not erased."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, TypeAlias

import psycopg

from eventstore._model import JSON, RecordedEvent, check_stream_id

# (event type, stored schema version, stored data) -> (current schema version, data)
Upcast: TypeAlias = Callable[[str, int, JSON], tuple[int, JSON]]
# [(stream id, data)] -> each data with its sealed values opened (or blanked, when erased)
Unseal: TypeAlias = Callable[[Sequence[tuple[str, JSON]]], Awaitable[list[JSON]]]


def no_upcast(_type: str, version: int, data: JSON) -> tuple[int, JSON]:
    return version, data


async def no_unseal(items: Sequence[tuple[str, JSON]]) -> list[JSON]:
    return [data for _, data in items]


async def opened(
    upcast: Upcast, unseal: Unseal, rows: Sequence[tuple[str, str, int, JSON]]
) -> list[tuple[int, JSON]]:
    """(stream, type, stored version, stored data) rows at the current schema version, opened:
    (schema version, data) each, in order."""
    current = [upcast(type_name, version, data) for _, type_name, version, data in rows]
    datas = await unseal([(row[0], data) for row, (_, data) in zip(rows, current, strict=True)])
    return [(version, data) for (version, _), data in zip(current, datas, strict=True)]


_COLUMNS = (
    "e.global_position, e.stream_id, e.stream_type, e.version, e.event_id, e.event_type,"
    " e.schema_version, e.data, e.metadata, e.recorded_at"
)


async def decode(
    rows: Sequence[Sequence[Any]], upcast: Upcast, unseal: Unseal, *, feed: bool
) -> list[RecordedEvent]:
    """Rows of `_COLUMNS` (and the feed position after them, when `feed`) as events."""
    current = await opened(upcast, unseal, [(r[1], r[5], r[6], r[7]) for r in rows])
    return [
        _event(row, version, data, row[10] if feed else None)
        for row, (version, data) in zip(rows, current, strict=True)
    ]


def _event(
    row: Sequence[Any], schema_version: int, data: JSON, feed_position: int | None
) -> RecordedEvent:
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
    unseal: Unseal,
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
    return await decode(await cur.fetchall(), upcast, unseal, feed=True)


async def read_streams(
    conn: psycopg.AsyncConnection[Any], upcast: Upcast, unseal: Unseal, stream_ids: Sequence[str]
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
    for event in await decode(await cur.fetchall(), upcast, unseal, feed=False):
        out[event.stream_id].append(event)
    return out


async def read_feed(
    conn: psycopg.AsyncConnection[Any], upcast: Upcast, unseal: Unseal, after: int, limit: int
) -> list[RecordedEvent]:
    """Events in commit order: feed positions after..after+limit."""
    cur = await conn.execute(
        f"SELECT {_COLUMNS}, f.feed_position FROM feed f"  # noqa: S608
        " JOIN events e USING (global_position)"
        " WHERE f.feed_position > %s ORDER BY f.feed_position LIMIT %s",
        (after, limit),
        prepare=True,
    )
    return await decode(await cur.fetchall(), upcast, unseal, feed=True)

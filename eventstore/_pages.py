"""The reads the projections and the auditors' views need, beyond whole streams and the feed:

    feed pages      the feed by stream type, after a position and up to a bound, lean rows
    stream entries  streams up to a version each, every event with its feed position
    by stream       every event of a stream type, stream after stream (a rebuild's bulk load)
    head, hashes    the feed's last position and hash, the hash at one or many positions
    recorded times  when the events at some feed positions were recorded (lag in seconds)
    mentions        the streams of a type whose events name a value (a sub-entity's holders)

Every row's data goes through the upcaster, as on every read path.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from eventstore._model import (
    FeedEntry,
    FeedHead,
    FeedIdentity,
    FeedPage,
    Mention,
    StreamEntry,
    StreamRange,
)
from eventstore._read import Unseal, Upcast, opened

_PAGE = (
    "SELECT f.feed_position, f.hash, e.stream_id, e.stream_type, e.version, e.event_type,"
    " e.schema_version, e.data"
    " FROM feed f JOIN events e USING (global_position)"
    " WHERE f.feed_position > %s AND f.feed_position <= %s AND e.stream_type = ANY(%s)"
    " ORDER BY f.feed_position LIMIT %s"
)
_IDENTITIES = (
    "SELECT f.feed_position, e.event_id, e.stream_id, e.event_type"
    " FROM feed f JOIN events e USING (global_position)"
    " WHERE f.feed_position > %s AND f.feed_position <= %s AND e.stream_type = ANY(%s)"
    " ORDER BY f.feed_position LIMIT %s"
)
_HASH = "SELECT hash FROM feed WHERE feed_position = %s"
_HASHES = "SELECT feed_position, hash FROM feed WHERE feed_position = ANY(%s)"
_HEAD = "SELECT feed_position, hash FROM feed ORDER BY feed_position DESC LIMIT 1"
_ENTRIES = (
    "SELECT e.stream_id, e.version, f.feed_position, e.event_type, e.schema_version, e.data"
    " FROM events e LEFT JOIN feed f USING (global_position)"
    " WHERE e.stream_id = ANY(%s) AND e.version <= %s ORDER BY e.stream_id, e.version"
)
# Each event's feed position is looked up by its own (a probe of feed's unique index), not
# joined: a join hashes the whole feed for every run read, so a rebuild cut into n runs would
# scan the whole history n times.
_BY_STREAM = (
    "SELECT e.stream_id, e.version,"
    " (SELECT f.feed_position FROM feed f WHERE f.global_position = e.global_position),"
    " e.event_type, e.schema_version, e.data"
    " FROM events e WHERE e.stream_type = %(type)s{bounds} ORDER BY e.stream_id, e.version"
)
# the bounds of a run of a type's streams: a range of the (stream_id, version) index. Without
# them, the index is walked from one end, through the other types' streams on the way.
_FROM, _BEFORE = " AND e.stream_id >= %(start)s", " AND e.stream_id < %(stop)s"
_THROUGH = " AND e.stream_id <= %(through)s"
# A stream type's streams cut into `parts` runs of consecutive ids with about as many events
# each: (first id, last id, events) per run, in id order. One pass over the type's rows of
# `streams` (a row per stream, not per event), numbered by the events before each.
_STREAM_RANGES = (
    "SELECT min(stream_id), max(stream_id), sum(version) FROM ("
    "  SELECT stream_id, version,"
    "   floor((sum(version) OVER (ORDER BY stream_id) - version) * %(parts)s"
    "    / sum(version) OVER ()) AS part"
    "  FROM streams WHERE stream_type = %(type)s) s"
    " GROUP BY part ORDER BY part"
)
_RECORDED = (
    "SELECT f.feed_position, e.recorded_at FROM feed f JOIN events e USING (global_position)"
    " WHERE f.feed_position = ANY(%s)"
)


async def read_page(
    conn: psycopg.AsyncConnection[Any],
    upcast: Upcast,
    unseal: Unseal,
    after: int,
    upto: int,
    *,
    stream_types: Sequence[str],
    limit: int,
) -> FeedPage:
    """Events of `stream_types` in feed order, after `after` and at most `upto`; the page ends
    at its last event when it is full, else at `upto` (nothing more of those types up to it),
    and carries the feed's hash there (what a checkpoint moved to it remembers)."""
    cur = await conn.execute(_PAGE, (after, upto, list(stream_types), limit), prepare=True)
    rows = await cur.fetchall()
    current = await opened(upcast, unseal, [(r[2], r[5], r[6], r[7]) for r in rows])
    entries = [
        FeedEntry(position, stream_id, stream_type, version, type_name, data)
        for (position, _, stream_id, stream_type, version, type_name, _, _), (_, data) in zip(
            rows, current, strict=True
        )
    ]
    if rows and len(rows) == limit:
        return FeedPage(entries, rows[-1][0], bytes(rows[-1][1]))
    if rows and rows[-1][0] == upto:
        return FeedPage(entries, upto, bytes(rows[-1][1]))
    return FeedPage(entries, upto, await read_hash(conn, upto) if upto else None)


async def read_identities(
    conn: psycopg.AsyncConnection[Any],
    after: int,
    upto: int,
    *,
    stream_types: Sequence[str],
    limit: int,
) -> list[FeedIdentity]:
    """The events `read_page` would return, without their data."""
    cur = await conn.execute(_IDENTITIES, (after, upto, list(stream_types), limit))
    return [FeedIdentity(*row) for row in await cur.fetchall()]


async def read_hash(conn: psycopg.AsyncConnection[Any], position: int) -> bytes | None:
    row = await (await conn.execute(_HASH, (position,), prepare=True)).fetchone()
    return None if row is None else bytes(row[0])


async def read_hashes(
    conn: psycopg.AsyncConnection[Any], positions: Sequence[int]
) -> dict[int, bytes]:
    cur = await conn.execute(_HASHES, (list(positions),))
    return {int(position): bytes(digest) for position, digest in await cur.fetchall()}


async def read_head(conn: psycopg.AsyncConnection[Any]) -> FeedHead:
    row = await (await conn.execute(_HEAD, prepare=True)).fetchone()
    return FeedHead(0, None) if row is None else FeedHead(row[0], bytes(row[1]))


async def read_entries(
    conn: psycopg.AsyncConnection[Any], upcast: Upcast, unseal: Unseal, up_to: Mapping[str, int]
) -> dict[str, list[StreamEntry]]:
    """Streams from their first event up to a version each, with each event's feed position."""
    cur = await conn.execute(_ENTRIES, (list(up_to), max(up_to.values())), prepare=True)
    rows = [row for row in await cur.fetchall() if row[1] <= up_to[row[0]]]
    current = await opened(upcast, unseal, [(r[0], r[3], r[4], r[5]) for r in rows])
    out: dict[str, list[StreamEntry]] = {stream_id: [] for stream_id in up_to}
    for (stream_id, version, position, type_name, _, _), (_, data) in zip(
        rows, current, strict=True
    ):
        out[stream_id].append(StreamEntry(version, position, type_name, data))
    return out


async def read_by_stream(
    conn: psycopg.AsyncConnection[Any],
    upcast: Upcast,
    unseal: Unseal,
    stream_type: str,
    chunk: int,
    *,
    start: str | None = None,
    stop: str | None = None,
    through: str | None = None,
) -> AsyncGenerator[list[tuple[str, StreamEntry]], None]:
    """Every event of a stream type (of the streams with `start` <= id < `stop` and
    id <= `through` only, where given), ordered by stream and version, `chunk` rows at a time
    from a server-side cursor: the client holds one chunk, whatever the number of events. The
    cursor lives in one read-only transaction, which holds back neither writers nor the
    sequencer (it only waits for transactions that write)."""
    bounds = "".join(
        clause for clause, bound in ((_FROM, start), (_BEFORE, stop), (_THROUGH, through))
        if bound is not None
    )  # fmt: skip
    params = {"type": stream_type, "start": start, "stop": stop, "through": through}
    async with conn.transaction(), conn.cursor(name=f"by_stream_{stream_type}") as cur:
        await cur.execute(_BY_STREAM.format(bounds=bounds), params)
        while rows := await cur.fetchmany(chunk):
            current = await opened(upcast, unseal, [(r[0], r[3], r[4], r[5]) for r in rows])
            yield [
                (stream_id, StreamEntry(version, position, type_name, data))
                for (stream_id, version, position, type_name, _, _), (_, data) in zip(
                    rows, current, strict=True
                )
            ]


async def read_stream_ranges(
    conn: psycopg.AsyncConnection[Any], stream_type: str, parts: int
) -> list[StreamRange]:
    cur = await conn.execute(_STREAM_RANGES, {"type": stream_type, "parts": parts})
    return [StreamRange(first, last, int(events)) for first, last, events in await cur.fetchall()]


async def read_recorded(
    conn: psycopg.AsyncConnection[Any], positions: Sequence[int]
) -> dict[int, datetime]:
    cur = await conn.execute(_RECORDED, (list(positions),), prepare=True)
    return dict(await cur.fetchall())


async def read_feed_position(
    conn: psycopg.AsyncConnection[Any], global_position: int
) -> int | None:
    cur = await conn.execute(
        "SELECT feed_position FROM feed WHERE global_position = %s", (global_position,),
        prepare=True,
    )  # fmt: skip
    row = await cur.fetchone()
    return None if row is None else int(row[0])


async def read_mentioning(
    conn: psycopg.AsyncConnection[Any], stream_type: str, mentions: Sequence[Mention]
) -> list[str]:
    """The streams of `stream_type` with an event that names one of `mentions`. (It scans the
    type's events: no index on the data. An auditor's read, not a hot path.)"""
    if not mentions:
        return []
    matches = sql.SQL(" OR ").join(_match(m) for m in mentions)
    statement = sql.SQL(
        "SELECT DISTINCT stream_id FROM events WHERE stream_type = {} AND ({}) ORDER BY stream_id"
    ).format(sql.Literal(stream_type), matches)
    cur = await conn.execute(statement)
    return [row[0] for row in await cur.fetchall()]


def _match(mention: Mention) -> sql.Composed:
    types = sql.Literal(list(mention.types))
    if mention.listed:
        return sql.SQL("(event_type = ANY({}) AND data->{} @> {}::jsonb)").format(
            types, sql.Literal(mention.field), sql.Literal(f"[{mention.value}]")
        )
    return sql.SQL("(event_type = ANY({}) AND data->>{} = {})").format(
        types, sql.Literal(mention.field), sql.Literal(str(mention.value))
    )

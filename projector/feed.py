"""Reading the feed the way projections need it: only their stream types, up to a bound, decoded
into domain events, and the feed's head and hashes for the restore guard.

`EventStore.read_feed` returns every event with its metadata; a projection wants one stream type
and a clear "nothing more up to here" so that its checkpoint can pass the events of other types.
This is the one place the projector reads the event store's tables directly (reads only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from domain.events import Event
from eventstore import Upcast
from projector.decoding import decode

_BATCH = (
    "SELECT f.feed_position, e.stream_id, e.stream_type, e.version, e.event_type,"
    " e.schema_version, e.data"
    " FROM feed f JOIN events e USING (global_position)"
    " WHERE f.feed_position > %s AND f.feed_position <= %s AND e.stream_type = ANY(%s)"
    " ORDER BY f.feed_position LIMIT %s"
)


@dataclass(frozen=True, slots=True)
class FeedEvent:
    position: int
    stream_id: str
    stream_type: str
    version: int
    event: Event


@dataclass(frozen=True, slots=True)
class FeedBatch:
    events: list[FeedEvent]
    end: int  # the feed position the batch covers up to, events of other types included


@dataclass(frozen=True, slots=True)
class Head:
    position: int
    hash: bytes | None


async def read_batch(
    conn: psycopg.AsyncConnection[Any],
    upcast: Upcast,
    after: int,
    upto: int,
    *,
    stream_types: Sequence[str],
    limit: int,
) -> FeedBatch:
    """Events of `stream_types` in feed order, after `after` and at most `upto`."""
    cur = await conn.execute(_BATCH, (after, upto, list(stream_types), limit), prepare=True)
    rows = await cur.fetchall()
    events = [_decode(row, upcast) for row in rows]
    end = events[-1].position if len(rows) == limit else upto
    return FeedBatch(events, end)


def _decode(row: Sequence[Any], upcast: Upcast) -> FeedEvent:
    _, data = upcast(row[4], row[5], row[6])
    return FeedEvent(row[0], row[1], row[2], row[3], decode(row[4], data))


async def read_head(conn: psycopg.AsyncConnection[Any]) -> Head:
    cur = await conn.execute(
        "SELECT feed_position, hash FROM feed ORDER BY feed_position DESC LIMIT 1", prepare=True
    )
    row = await cur.fetchone()
    return Head(0, None) if row is None else Head(row[0], bytes(row[1]))


async def read_hash(conn: psycopg.AsyncConnection[Any], position: int) -> bytes | None:
    """The feed's hash at `position`; None when the feed does not reach it."""
    cur = await conn.execute(
        "SELECT hash FROM feed WHERE feed_position = %s", (position,), prepare=True
    )
    row = await cur.fetchone()
    return None if row is None else bytes(row[0])


async def recorded_at(conn: psycopg.AsyncConnection[Any], position: int) -> datetime | None:
    """When the event at feed `position` was recorded (None past the head)."""
    cur = await conn.execute(
        "SELECT e.recorded_at FROM feed f JOIN events e USING (global_position)"
        " WHERE f.feed_position = %s",
        (position,),
        prepare=True,
    )
    row = await cur.fetchone()
    return None if row is None else row[0]


@dataclass(frozen=True, slots=True)
class StreamEvent:
    version: int
    feed_position: int | None  # None: committed, not sequenced yet
    event: Event


_STREAMS = (
    "SELECT e.stream_id, e.version, f.feed_position, e.event_type, e.schema_version, e.data"
    " FROM events e LEFT JOIN feed f USING (global_position)"
    " WHERE e.stream_id = ANY(%s) AND e.version <= %s ORDER BY e.stream_id, e.version"
)


async def read_streams(
    conn: psycopg.AsyncConnection[Any], upcast: Upcast, up_to: dict[str, int]
) -> dict[str, list[StreamEvent]]:
    """Streams from their first event up to a version each, with the feed position of every
    event (what a runner needs to fold a stream it does not hold as of a feed position)."""
    cur = await conn.execute(_STREAMS, (list(up_to), max(up_to.values())), prepare=True)
    out: dict[str, list[StreamEvent]] = {stream_id: [] for stream_id in up_to}
    for stream_id, version, position, type_name, schema_version, data in await cur.fetchall():
        if version <= up_to[stream_id]:
            _, current = upcast(type_name, schema_version, data)
            out[stream_id].append(StreamEvent(version, position, decode(type_name, current)))
    return out

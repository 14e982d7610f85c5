"""Reading streams from where a reader already holds them: each stream after a version, starting
from its newest snapshot beyond that version when one was taken by the reader's code (its
fingerprint). One statement for every stream of a command, whatever their history: the cost of
a read is the tail, not the stream.

Snapshots are opaque JSON to the store; the reader folded them and knows how to read them back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from eventstore._model import JSON, Snapshot, StreamEntry, StreamTail, Tail, check_stream_id
from eventstore._read import Unseal, Upcast, opened

_TAILS = """
WITH wanted AS (
    SELECT * FROM unnest(%(streams)s::text[], %(after)s::bigint[], %(upto)s::bigint[],
                         %(fingerprints)s::text[]) AS w(stream_id, after, upto, fingerprint)
), snap AS (
    SELECT w.stream_id, s.version, s.state FROM wanted w
    JOIN snapshots s ON s.stream_id = w.stream_id AND s.fingerprint = w.fingerprint
     AND s.version > w.after AND (w.upto IS NULL OR s.version <= w.upto)
)
SELECT stream_id, version, NULL::bigint, NULL::text, NULL::integer, state FROM snap
UNION ALL
SELECT e.stream_id, e.version, f.feed_position, e.event_type, e.schema_version, e.data
FROM wanted w LEFT JOIN snap USING (stream_id)
JOIN events e ON e.stream_id = w.stream_id
 AND e.version > greatest(w.after, coalesce(snap.version, 0))
 AND (w.upto IS NULL OR e.version <= w.upto)
LEFT JOIN feed f ON f.global_position = e.global_position
ORDER BY 1, 2
"""

_SAVE = """
INSERT INTO snapshots (stream_id, fingerprint, version, state)
SELECT * FROM unnest(%s::text[], %s::text[], %s::bigint[], %s::jsonb[])
ON CONFLICT (stream_id, fingerprint) DO UPDATE
SET version = excluded.version, state = excluded.state, taken_at = now()
WHERE snapshots.version < excluded.version
"""


async def read_tails(
    conn: psycopg.AsyncConnection[Any], upcast: Upcast, unseal: Unseal, tails: Sequence[Tail]
) -> dict[str, StreamTail]:
    for tail in tails:
        check_stream_id(tail.stream_id)
    params = {
        "streams": [t.stream_id for t in tails],
        "after": [t.after for t in tails],
        "upto": [t.upto for t in tails],
        "fingerprints": [t.fingerprint for t in tails],
    }
    cur = await conn.execute(_TAILS, params, prepare=True)
    rows = await cur.fetchall()
    # the snapshots' states are opened with the events: their personal values are sealed too
    states = await unseal([(r[0], r[5]) for r in rows if r[3] is None])
    snapshots = {r[0]: Snapshot(r[1], state) for r, state in zip(
        (r for r in rows if r[3] is None), states, strict=True)}  # fmt: skip
    stored = [r for r in rows if r[3] is not None]
    current = await opened(upcast, unseal, [(r[0], r[3], r[4], r[5]) for r in stored])
    events: dict[str, list[StreamEntry]] = {t.stream_id: [] for t in tails}
    for (stream_id, version, position, type_name, _, _), (_, data) in zip(
        stored, current, strict=True
    ):
        events[stream_id].append(StreamEntry(version, position, type_name, data))
    return {
        t.stream_id: StreamTail(
            t.stream_id, t.after, snapshots.get(t.stream_id), events[t.stream_id]
        )
        for t in tails
    }


async def read_versions(
    conn: psycopg.AsyncConnection[Any], stream_ids: Sequence[str]
) -> dict[str, int]:
    """Each stream's current version (0: no event yet), from its one row in `streams`."""
    cur = await conn.execute(
        "SELECT stream_id, version FROM streams WHERE stream_id = ANY(%s)", (list(stream_ids),),
        prepare=True,
    )  # fmt: skip
    found = dict(await cur.fetchall())
    return {stream_id: int(found.get(stream_id, 0)) for stream_id in stream_ids}


async def save_snapshots(
    conn: psycopg.AsyncConnection[Any], snapshots: Sequence[tuple[str, str, int, JSON]]
) -> None:
    """Keep each (stream, fingerprint)'s newest snapshot: an older one never replaces it."""
    if not snapshots:
        return
    streams, fingerprints, versions, states = zip(*snapshots, strict=True)
    jsonb = [Jsonb(state) for state in states]
    await conn.execute(_SAVE, (list(streams), list(fingerprints), list(versions), jsonb))


async def delete_snapshots(conn: psycopg.AsyncConnection[Any], stream_ids: Sequence[str]) -> int:
    cur = await conn.execute("DELETE FROM snapshots WHERE stream_id = ANY(%s)", (list(stream_ids),))
    return cur.rowcount

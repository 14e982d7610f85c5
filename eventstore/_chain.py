"""The hash chain over the feed: hash(n) = sha256(hash(n-1) || canonical bytes of event n).

Canonical bytes are built from the stored columns, with `data` and `metadata` in PostgreSQL's own
jsonb text form (keys in a fixed order, no insignificant whitespace), so the sequencer and a later
verification see exactly the same bytes, whatever client or language reads them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC
from typing import Any

import orjson
import psycopg

from eventstore._model import VerifyReport

GENESIS = bytes(32)

# the columns `canonical` expects, in order; shared by the sequencer and the verifier
CANONICAL_COLUMNS = (
    "e.global_position, e.transaction_id::text, e.stream_id, e.version, e.event_id::text,"
    " e.event_type, e.schema_version, e.data::text, e.metadata::text, e.recorded_at"
)


def canonical(feed_position: int, row: Sequence[Any]) -> bytes:
    recorded_at = row[9].astimezone(UTC).isoformat()
    return orjson.dumps([feed_position, *row[:9], recorded_at])


def link(previous: bytes, canonical_bytes: bytes) -> bytes:
    return hashlib.sha256(previous + canonical_bytes).digest()


async def previous_hash(conn: psycopg.AsyncConnection[Any], position: int) -> bytes | None:
    if position == 0:
        return GENESIS
    cur = await conn.execute("SELECT hash FROM feed WHERE feed_position = %s", (position,))
    row = await cur.fetchone()
    return None if row is None else bytes(row[0])


async def verify(
    conn: psycopg.AsyncConnection[Any], first: int = 1, last: int | None = None, batch: int = 5000
) -> VerifyReport:
    """Check positions first..last (default: to the head) for gaps, missing or changed events and
    broken links; report the first bad position."""
    first = max(first, 1)
    previous = await previous_hash(conn, first - 1)
    if previous is None:
        return VerifyReport(0, first - 1, "the position before the range is missing")
    expected, checked = first, 0
    while last is None or expected <= last:
        start = expected
        upper = start + batch - 1 if last is None else min(last, start + batch - 1)
        cur = await conn.execute(
            f"SELECT f.feed_position, f.hash, f.transaction_id::text, e.global_position IS NULL,"  # noqa: S608
            f" {CANONICAL_COLUMNS} FROM feed f LEFT JOIN events e USING (global_position)"
            " WHERE f.feed_position BETWEEN %s AND %s ORDER BY f.feed_position",
            (start, upper),
        )
        rows = await cur.fetchall()
        for row in rows:
            problem = _check(row, expected, previous)
            if problem:
                return VerifyReport(checked, expected, problem)
            previous, expected, checked = bytes(row[1]), expected + 1, checked + 1
        if len(rows) < upper - start + 1:
            break
    return await _tail_gap(conn, expected, last, checked)


def _check(row: Sequence[Any], expected: int, previous: bytes) -> str | None:
    position, stored_hash, feed_tx, missing, event = row[0], bytes(row[1]), row[2], row[3], row[4:]
    if position != expected:
        return f"gap: position {expected} is missing (next is {position})"
    if missing:
        return "the event this position names is missing"
    if feed_tx != event[1]:
        return "the event's transaction differs from the one sequenced"
    if link(previous, canonical(position, event)) != stored_hash:
        return "hash mismatch: the event or an earlier link was changed"
    return None


async def _tail_gap(
    conn: psycopg.AsyncConnection[Any], expected: int, last: int | None, checked: int
) -> VerifyReport:
    """A range that ends early is fine at the head, but a later position means a hole."""
    cur = await conn.execute(
        "SELECT min(feed_position) FROM feed WHERE feed_position >= %s", (expected,)
    )
    row = await cur.fetchone()
    later = row[0] if row else None
    if later is not None and (last is None or later <= last):
        return VerifyReport(checked, expected, f"gap: position {expected} is missing")
    return VerifyReport(checked)

"""The sequencer: turns committed events into the feed, in commit order, with no gaps and no skips.

`global_position` comes from an identity column, so it is handed out at insert time, not at commit:
a transaction can draw position 10, commit after the one that drew 11, and a reader that trusted
positions would skip 10 forever. The usual cure serialises every writer on a table lock. Instead,
every event records the id of its writing transaction (`pg_current_xact_id()`), and the sequencer
only takes events whose transaction id is below `pg_snapshot_xmin(pg_current_snapshot())`: every
transaction below that horizon has ended, and every transaction that has not yet written will get a
higher id. So the set below the horizon never changes once seen, and walking it in
`(transaction_id, global_position)` order gives each event exactly one contiguous `feed_position`.
A long-open transaction holds the horizon back; the sequencer then waits (and `status` names the
backend) rather than skip. One sequencer runs at a time, guarded by an advisory lock; writers never
take that lock.
"""

from __future__ import annotations

from typing import Any

import psycopg

from eventstore._chain import CANONICAL_COLUMNS, GENESIS, canonical, link
from eventstore._model import FeedStatus, HorizonBlocker

SEQUENCER_LOCK = 0x0005_EC00_0001  # advisory lock key: one sequencer at a time

_CURSOR = (
    "SELECT feed_position, transaction_id::text, global_position, hash, sequenced_at"
    " FROM feed ORDER BY feed_position DESC LIMIT 1"
)
_NEXT = (
    f"SELECT {CANONICAL_COLUMNS} FROM events e"  # noqa: S608 - fixed fragments only
    " WHERE (e.transaction_id, e.global_position) > (%s::xid8, %s)"
    " AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())"
    " ORDER BY e.transaction_id, e.global_position LIMIT %s"
)


async def _cursor(conn: psycopg.AsyncConnection[Any]) -> tuple[int, str, int, bytes]:
    cur = await conn.execute(_CURSOR)
    row = await cur.fetchone()
    if row is None:
        return 0, "0", 0, GENESIS
    return row[0], row[1], row[2], bytes(row[3])


async def sequence_batch(conn: psycopg.AsyncConnection[Any], limit: int) -> int | None:
    """Sequence up to `limit` events in one transaction; None if another sequencer is running."""
    async with conn.transaction():
        cur = await conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (SEQUENCER_LOCK,))
        locked = await cur.fetchone()
        if not locked or not locked[0]:
            return None
        position, tx, global_position, previous = await _cursor(conn)
        cur = await conn.execute(_NEXT, (tx, global_position, limit), prepare=True)
        rows = await cur.fetchall()
        if not rows:
            return 0
        async with conn.cursor().copy(
            "COPY feed (feed_position, global_position, transaction_id, hash) FROM STDIN"
        ) as copy:
            for row in rows:
                position += 1
                previous = link(previous, canonical(position, row))
                await copy.write_row((position, row[0], row[1], previous))
    return len(rows)


async def sequence(
    conn: psycopg.AsyncConnection[Any], batch: int = 2000, max_events: int = 0
) -> int:
    """Sequence everything below the horizon (or at most `max_events`); return how many."""
    done = 0
    while not max_events or done < max_events:
        limit = batch if not max_events else min(batch, max_events - done)
        n = await sequence_batch(conn, limit)
        if not n:
            break
        done += n
        if n < limit:  # all there was below the horizon: another look would find nothing
            break  # (or only what committed since, which the next caller takes)
    return done


async def status(conn: psycopg.AsyncConnection[Any]) -> FeedStatus:
    """The feed head, how many committed events wait to be sequenced, and who holds them back."""
    _, tx, global_position, _ = await _cursor(conn)
    cur = await conn.execute(
        "SELECT f.feed_position, e.recorded_at FROM feed f JOIN events e USING (global_position)"
        " ORDER BY f.feed_position DESC LIMIT 1"
    )
    head = await cur.fetchone()
    cur = await conn.execute(
        "SELECT count(*), min(transaction_id)::text FROM events"
        " WHERE (transaction_id, global_position) > (%s::xid8, %s)",
        (tx, global_position),
    )
    pending = await cur.fetchone()
    assert pending is not None
    blockers = await _blockers(conn, pending[1]) if pending[0] else []
    return FeedStatus(
        head=head[0] if head else 0,
        head_recorded_at=head[1] if head else None,
        pending=pending[0],
        blockers=blockers,
    )


async def _blockers(
    conn: psycopg.AsyncConnection[Any], oldest_pending_tx: str
) -> list[HorizonBlocker]:
    """Open transactions older than the oldest waiting event: they keep the horizon below it."""
    cur = await conn.execute(
        "SELECT pid, coalesce(application_name, ''),"
        " extract(epoch FROM clock_timestamp() - xact_start)::float8, coalesce(state, ''),"
        " left(coalesce(query, ''), 300)"
        " FROM pg_stat_activity"
        " WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
        " AND age(backend_xid) > age(((%s::xid8::text::numeric %% 4294967296)::text)::xid)"
        " ORDER BY xact_start LIMIT 10",
        (oldest_pending_tx,),
    )
    return [HorizonBlocker(*row) for row in await cur.fetchall()]

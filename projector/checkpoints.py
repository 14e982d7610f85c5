"""Where each projection stands: its live checkpoint (`projection_checkpoints`) and, during a
rebuild, the progress of the next generation (`projection_rebuilds`). Both move only in the
transaction that writes the rows they account for, and only from where the mover read them.

The restore guard lives here too: a checkpoint remembers the feed's hash at its position, so a
feed that no longer reaches it, or reaches it with other events (a restored or reset database),
is refused instead of being silently skipped or mixed into read models built from another one.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from eventstore import EventStore
from projector.errors import CheckpointMovedError, FeedBehindCheckpointError


class Slot(enum.Enum):
    LIVE = "projection_checkpoints"
    REBUILD = "projection_rebuilds"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    projection: str
    slot: Slot
    generation: int
    position: int
    feed_hash: bytes | None = None


async def read_live(conn: psycopg.AsyncConnection[Any], projection: str) -> Checkpoint:
    """The live checkpoint, created at the start of the feed the first time it is asked for."""
    return (await read_lives(conn, [projection]))[0]


async def read_lives(
    conn: psycopg.AsyncConnection[Any], projections: Sequence[str]
) -> list[Checkpoint]:
    """The live checkpoints of `projections`, in their order, created at the start of the feed
    the first time they are asked for: one statement on every later catch-up (all of them but
    the first), however many projections there are."""
    select = (
        "SELECT name, generation, position, feed_hash FROM projection_checkpoints"
        " WHERE name = ANY(%s)"
    )
    names = list(projections)
    rows = await (await conn.execute(select, (names,), prepare=True)).fetchall()
    if len(rows) < len(set(names)):
        await conn.execute(
            "INSERT INTO projection_checkpoints (name) SELECT unnest(%s::text[])"
            " ON CONFLICT DO NOTHING",
            (names,),
        )
        rows = await (await conn.execute(select, (names,), prepare=True)).fetchall()
    found = {row[0]: Checkpoint(row[0], Slot.LIVE, row[1], row[2], _bytes(row[3])) for row in rows}
    return [found[name] for name in names]


async def read_rebuild(conn: psycopg.AsyncConnection[Any], projection: str) -> Checkpoint | None:
    cur = await conn.execute(
        "SELECT generation, position, feed_hash FROM projection_rebuilds WHERE name = %s",
        (projection,),
    )
    row = await cur.fetchone()
    if row is None:
        return None
    return Checkpoint(projection, Slot.REBUILD, row[0], row[1], _bytes(row[2]))


async def begin_rebuild(
    conn: psycopg.AsyncConnection[Any], projection: str, generation: int
) -> Checkpoint:
    """A rebuild into `generation` from the start of the feed (replacing any other in progress)."""
    await conn.execute(
        "INSERT INTO projection_rebuilds (name, generation) VALUES (%s, %s)"
        " ON CONFLICT (name) DO UPDATE SET generation = excluded.generation, position = 0,"
        " feed_hash = NULL, events_loaded = 0, started_at = now(), updated_at = now()",
        (projection, generation),
    )
    return Checkpoint(projection, Slot.REBUILD, generation, 0)


async def count_loaded(
    conn: psycopg.AsyncConnection[Any], rebuild: Checkpoint, events: int
) -> None:
    """`events` more folded by a rebuild's bulk load (its parts add theirs): its progress while
    its position waits at the start (operators' status and the admin API show it)."""
    await conn.execute(
        "UPDATE projection_rebuilds SET events_loaded = events_loaded + %s, updated_at = now()"
        " WHERE name = %s AND generation = %s",
        (events, rebuild.projection, rebuild.generation),
        prepare=True,
    )


async def move(
    conn: psycopg.AsyncConnection[Any],
    checkpoints: Sequence[Checkpoint],
    to: int,
    feed_hash: bytes | None,
) -> list[Checkpoint]:
    """Move checkpoints of one slot, each from where it was read, to feed position `to` (where
    the feed's hash is `feed_hash`); inside the transaction that wrote the rows up to `to`, so
    both commit or neither. One statement for all of them: a catch-up moves every projection's
    checkpoint, events or not."""
    if not checkpoints:
        return []
    slot = checkpoints[0].slot
    assert all(c.slot is slot for c in checkpoints), "one slot per move"
    counter = ", events_applied = c.events_applied + (%(to)s - v.at)" if slot is Slot.LIVE else ""
    cur = await conn.execute(
        f"UPDATE {slot.value} AS c SET position = %(to)s,"  # noqa: S608 - the slot is an enum
        " feed_hash = %(hash)s,"
        f" updated_at = now(){counter}"
        " FROM unnest(%(names)s::text[], %(generations)s::int[], %(ats)s::bigint[])"
        " AS v(name, generation, at)"
        " WHERE c.name = v.name AND c.generation = v.generation AND c.position = v.at"
        " RETURNING c.name, c.feed_hash",
        {
            "to": to,
            "hash": feed_hash,
            "names": [c.projection for c in checkpoints],
            "generations": [c.generation for c in checkpoints],
            "ats": [c.position for c in checkpoints],
        },
        prepare=True,
    )
    hashes = {name: _bytes(feed_hash) for name, feed_hash in await cur.fetchall()}
    for c in checkpoints:
        if c.projection not in hashes:
            raise CheckpointMovedError(c.projection, c.position)
    return [replace(c, position=to, feed_hash=hashes[c.projection]) for c in checkpoints]


async def switch(
    conn: psycopg.AsyncConnection[Any], live: Checkpoint, rebuilt: Checkpoint
) -> Checkpoint:
    """Make the rebuilt generation the live one, in one transaction: the query API reads the
    generation from the checkpoint row in the same statement as the rows, so it sees either
    the old generation complete or the new one complete."""
    async with conn.transaction():
        cur = await conn.execute(
            "UPDATE projection_checkpoints SET generation = %s, position = %s, feed_hash = %s,"
            " updated_at = now() WHERE name = %s AND generation = %s",
            (rebuilt.generation, rebuilt.position, rebuilt.feed_hash, live.projection,
             live.generation),
        )  # fmt: skip
        if cur.rowcount != 1:
            raise CheckpointMovedError(live.projection, live.position)
        await conn.execute(
            "DELETE FROM projection_rebuilds WHERE name = %s AND generation = %s",
            (rebuilt.projection, rebuilt.generation),
        )
    return replace(rebuilt, slot=Slot.LIVE)


async def check_feed(store: EventStore, at: Checkpoint) -> None:
    """The restore guard: refuse a feed that is behind, or not the one behind, the checkpoint."""
    for refused in await check_feeds(store, [at]):
        raise refused


async def check_feeds(
    store: EventStore, checkpoints: Sequence[Checkpoint]
) -> list[FeedBehindCheckpointError]:
    """The restore guard for several checkpoints: one query for the feed's hashes at all their
    positions (usually one: projections that follow the feed together stand at the same), and
    the refusals, if any."""
    positions = sorted({c.position for c in checkpoints if c.position})
    if not positions:
        return []
    found = await store.feed_hashes(positions)
    head = None if len(found) == len(positions) else await store.feed_head()
    refused = []
    for at in checkpoints:
        if not at.position:
            continue
        if at.position not in found:
            assert head is not None, "read above when a position was missing"
            ends = f"the feed ends at position {head.position}"
            refused.append(FeedBehindCheckpointError(at.projection, at.position, ends))
        elif at.feed_hash is not None and found[at.position] != at.feed_hash:
            other = "the feed at that position holds other events"
            refused.append(FeedBehindCheckpointError(at.projection, at.position, other))
    return refused


def _bytes(value: Any) -> bytes | None:
    return None if value is None else bytes(value)

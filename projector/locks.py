"""One runner per projection: session-level advisory locks, held on the connection that also
writes the batches, so a runner that dies (its connection closes) releases them at once.

Every checkpoint also moves only from where its runner read it, so even two runners that both
believed they held a lock could not apply a batch twice: the lock saves the wasted work, the
checkpoint guarantees the effect.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg

from eventstore import EventStore


def key(purpose: str, projection: str) -> int:
    """A stable 64-bit lock key per (purpose, projection): "live" runs or a "rebuild"."""
    digest = hashlib.blake2b(f"orders:{purpose}:{projection}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def try_lock(conn: psycopg.AsyncConnection[Any], keys: Sequence[int]) -> list[int]:
    """Take whichever of `keys` are free, in one statement however many; return those taken,
    in the order asked."""
    cur = await conn.execute(
        "SELECT k FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(k, i)"
        " WHERE pg_try_advisory_lock(k) ORDER BY i",
        (list(keys),),
        prepare=True,
    )
    return [row[0] for row in await cur.fetchall()]


async def wait_lock(conn: psycopg.AsyncConnection[Any], k: int, seconds: float) -> bool:
    """Take `k`, waiting up to `seconds` for its holder to finish."""
    deadline = time.monotonic() + seconds
    while not await try_lock(conn, [k]):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def unlock(conn: psycopg.AsyncConnection[Any], keys: Sequence[int]) -> None:
    for k in keys:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (k,), prepare=True)


@asynccontextmanager
async def locking(store: EventStore) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A pooled connection to take locks on, that goes back to the pool holding none: whatever
    happens inside, all its session locks are released on the way out, and if even that fails
    the connection is closed (the pool drops it; PostgreSQL drops its locks)."""
    async with store.connection() as conn:
        try:
            yield conn
        finally:
            try:
                await conn.execute("SELECT pg_advisory_unlock_all()")
            except BaseException:
                await conn.close()
                raise

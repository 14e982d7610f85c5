"""The keys personal data is sealed with, kept beside the events: one per person (subject) and
generation, stored wrapped (the store never sees a key in the clear, nor the master key).

Destroying a subject's keys nulls their wrapped bytes: what they sealed can never be read again,
while the events, and the hash chain over them, stay exactly as they were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from eventstore._model import DataKey

_CREATE = """
INSERT INTO data_keys (subject, generation, wrapped, master_id)
SELECT x.subject, coalesce(max(k.generation), 0) + 1, x.wrapped, %(master)s
FROM unnest(%(subjects)s::text[], %(wrapped)s::bytea[]) AS x(subject, wrapped)
LEFT JOIN data_keys k ON k.subject = x.subject
GROUP BY x.subject, x.wrapped
ON CONFLICT (subject, generation) DO NOTHING
"""


async def read_keys(
    conn: psycopg.AsyncConnection[Any], subjects: Sequence[str]
) -> dict[str, list[DataKey]]:
    """Every generation of each subject's key, destroyed ones with `wrapped` None."""
    cur = await conn.execute(
        "SELECT subject, generation, wrapped, master_id FROM data_keys"
        " WHERE subject = ANY(%s) ORDER BY subject, generation",
        (list(subjects),),
        prepare=True,
    )
    found: dict[str, list[DataKey]] = {subject: [] for subject in subjects}
    for subject, generation, wrapped, master_id in await cur.fetchall():
        found[subject].append(
            DataKey(subject, generation, None if wrapped is None else bytes(wrapped), master_id)
        )
    return found


async def create_keys(
    conn: psycopg.AsyncConnection[Any], wrapped: Mapping[str, bytes], master_id: str
) -> None:
    """A new generation of each subject's key, in one statement; a subject whose next
    generation another writer made first keeps that one (the caller reads the newest live)."""
    params = {"subjects": list(wrapped), "wrapped": list(wrapped.values()), "master": master_id}
    await conn.execute(_CREATE, params)


async def destroy_keys(conn: psycopg.AsyncConnection[Any], subject: str) -> int:
    cur = await conn.execute(
        "UPDATE data_keys SET wrapped = NULL, destroyed_at = now()"
        " WHERE subject = %s AND wrapped IS NOT NULL",
        (subject,),
    )
    return cur.rowcount


async def read_all_keys(conn: psycopg.AsyncConnection[Any]) -> list[DataKey]:
    """Every live key (to re-wrap them under a new master key)."""
    cur = await conn.execute(
        "SELECT subject, generation, wrapped, master_id FROM data_keys WHERE wrapped IS NOT NULL"
    )
    return [DataKey(s, g, bytes(w), m) for s, g, w, m in await cur.fetchall()]


async def rewrap(conn: psycopg.AsyncConnection[Any], keys: Sequence[DataKey]) -> int:
    """Store keys wrapped anew (same subject, generation and key, another master)."""
    async with conn.transaction():
        for key in keys:
            await conn.execute(
                "UPDATE data_keys SET wrapped = %s, master_id = %s"
                " WHERE subject = %s AND generation = %s AND wrapped IS NOT NULL",
                (key.wrapped, key.master_id, key.subject, key.generation),
            )
    return len(keys)

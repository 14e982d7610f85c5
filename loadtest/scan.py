"""Everything PostgreSQL and Redis hold, as text by where it is: every row of every table and
every value of every key. What the erasure invariants search for a person's plaintext values
(the soak's, and the erasure property test's), so that no table or key is left out by naming
the places to look.

Cost: one full read of every table and every key, O(size of both stores): for a check at the
end of a run, never for a live path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import psycopg
from psycopg import sql
from redis.asyncio import Redis


async def every_value(database_url: str, redis: Sequence[Redis]) -> dict[str, str]:
    """Every row of every table, and every value of every key, as text, by where it is."""
    chunks: dict[str, str] = {}
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        tables = await (
            await conn.execute(
                "SELECT schemaname, tablename FROM pg_tables"
                " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
        ).fetchall()
        for schema, table in tables:
            every_row = sql.SQL(
                "SELECT coalesce(string_agg(t::text, chr(10)), '') FROM {}.{} t"
            ).format(sql.Identifier(schema), sql.Identifier(table))
            row = await (await conn.execute(every_row)).fetchone()
            chunks[f"{schema}.{table}"] = row[0] if row else ""
    for n, client in enumerate(redis):
        async for key in client.scan_iter(count=1000):
            name = key.decode(errors="replace")
            chunks[f"redis {n} {name}"] = f"{name} {await _value(client, key)}"
    return chunks


async def _value(client: Redis, key: bytes) -> Any:
    """A key's value, whatever its type (None for a type no personal value is kept in)."""
    raw = await client.type(key)
    kind = raw.decode() if isinstance(raw, bytes) else raw
    if kind == "string":
        return await client.get(key)
    if kind == "hash":
        return await client.hgetall(key)
    if kind in ("zset", "list"):
        return await (client.zrange if kind == "zset" else client.lrange)(key, 0, -1)
    if kind == "set":
        return await client.smembers(key)
    return await client.xrange(key) if kind == "stream" else None


def found(values: Iterable[str], chunks: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """Each value found, where, with the text around it: (value, where, excerpt)."""
    return [
        (value, where, text[max(0, text.find(value) - 300) :][:600])
        for value in values
        for where, text in chunks.items()
        if value in text
    ]

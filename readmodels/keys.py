"""How the read models' Redis keys are spelled: the one module that names them.

Every key of one projection's generation carries the same hash tag, `{<projection>:g<n>}`, so
that on Redis Cluster they share one slot: the projector's write script (documents, `pos`,
`sets`, indexes), the query API's page script (applied position, index, documents) and a
generation's drop each touch one slot, on one node, as Cluster requires of a script. The price:
a generation lives on one node, so a cluster spreads the projections (and a rebuild's new
generation) over its nodes, not the documents of one projection.

    rm:{<projection>:g<n>}:<table>:doc:<id_key>    a document
    rm:{<projection>:g<n>}:<table>:pos | sets | idx:<name>
    rm:{<projection>:g<n>}:applied                 the generation's applied position
    rm:live:<projection>                           the live generation (read alone: no tag)

Keys written before the tags (`rm:<table>:g<n>:…`, `rm:applied:…`) are no longer read: the
projector finds no applied position under the new names and reloads Redis from PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis, RedisCluster


def generation_prefix(projection: str, generation: int) -> str:
    """What every key of the generation starts with (its hash tag included)."""
    return f"rm:{{{projection}:g{generation}}}:"


def table_prefix(projection: str, table: str, generation: int) -> str:
    """The prefix of a table's keys in the generation: `doc:<id>`, `pos`, `sets`, `idx:<name>`."""
    return f"{generation_prefix(projection, generation)}{table}:"


def applied_key(projection: str, generation: int) -> str:
    return f"{generation_prefix(projection, generation)}applied"


def live_generation_key(projection: str) -> str:
    return f"rm:live:{projection}"


def generation_pattern(projection: str, generation: int) -> str:
    """A SCAN pattern matching every key of the generation (braces are not glob syntax)."""
    return f"{generation_prefix(projection, generation)}*"


async def mget(redis: Redis | RedisCluster, keys: Sequence[str]) -> list[Any]:
    """Keys of several projections in one MGET on a single Redis; on a cluster, where each
    projection's keys hash to a slot of their own, one MGET per slot (in the keys' order)."""
    if not keys:
        return []
    if isinstance(redis, RedisCluster):
        return list(await redis.mget_nonatomic(list(keys)))
    return list(await redis.mget(list(keys)))

"""How the read models' Redis keys are spelled: the one module that names them.

Every key of one projection's generation carries the same hash tag, `{<projection>:g<n>}`, so
that on Redis Cluster they share one slot: the projector's write script, the query API's read
scripts (applied position, index, documents) and a generation's drop each touch one slot, on
one node, as Cluster requires of a script. The price: a generation lives on one node, so a
cluster spreads the projections (and a rebuild's new generation) over its nodes, not the
documents of one projection.

    rm:{<projection>:g<n>}:<table>:docs      hash id_key -> the document's JSON
    rm:{<projection>:g<n>}:<table>:pos       hash id_key -> its feed position
    rm:{<projection>:g<n>}:<table>:sets      hash id_key -> its index names
    rm:{<projection>:g<n>}:<table>:index     sorted set of `<index name>\\0<id_key, 20 digits>`
    rm:{<projection>:g<n>}:applied:v<LAYOUT> the generation's applied position
    rm:{<projection>:g<n>}:writing:v<LAYOUT> the end of the last batch sent to it
    rm:{<projection>:g<n>}:warming:v<LAYOUT> a rebuild's lease on loading it after its switch
    rm:live:<projection>                     the live generation (read alone: no tag)

A table is four keys whatever its size, so dropping a generation is one UNLINK of a few keys,
which Redis frees in a background thread: the cost of a drop no longer grows with the
documents. Every member of `index` has the same score (0), so the set is ordered by member:
by index name, then by id (zero-padded, so digits sort as numbers). An index's entries are one
range of it (`ZLEXCOUNT` finds where it starts and how long it is, `ZRANGE` by rank reads a
page of it), as a sorted set per index value would be, but without a key per value.

The applied position's name carries the layout's version (`LAYOUT`). A generation written in an
older layout has no applied position under the current name, so the projector reloads it from
PostgreSQL (readers never read it meanwhile), and a reload first removes every key of the
generation by its pattern: an older layout's keys (layout 1: a `doc:<id>` string per document
and an `idx:<name>` sorted set per index value) go with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from redis.asyncio import Redis, RedisCluster

LAYOUT = 2  # bumped whenever the keys below change meaning: older generations get reloaded
ID_DIGITS = 20  # an id_key in an index member, zero-padded: 2**63 has 19 digits


def generation_prefix(projection: str, generation: int) -> str:
    """What every key of the generation starts with (its hash tag included)."""
    return f"rm:{{{projection}:g{generation}}}:"


def table_prefix(projection: str, table: str, generation: int) -> str:
    """The prefix of a table's keys in the generation: `docs`, `pos`, `sets`, `index`."""
    return f"{generation_prefix(projection, generation)}{table}:"


TABLE_KEYS = ("docs", "pos", "sets", "index")  # a table's keys in a generation


def applied_key(projection: str, generation: int) -> str:
    return f"{generation_prefix(projection, generation)}applied:v{LAYOUT}"


def writing_key(projection: str, generation: int) -> str:
    """The end of the last batch whose documents were sent to the generation: past its applied
    position, the generation holds documents of that batch only (`projector.runner`)."""
    return f"{generation_prefix(projection, generation)}writing:v{LAYOUT}"


def warming_key(projection: str, generation: int) -> str:
    """Held (with an expiry its holder keeps pushing back) while a rebuild loads the generation
    after switching readers to it (`projector.warming`): the live runner leaves it alone."""
    return f"{generation_prefix(projection, generation)}warming:v{LAYOUT}"


def live_generation_key(projection: str) -> str:
    return f"rm:live:{projection}"


def generation_pattern(projection: str, generation: int) -> str:
    """A SCAN pattern matching every key of the generation (braces are not glob syntax)."""
    return f"{generation_prefix(projection, generation)}*"


def index_member(name: str, id_key: int) -> bytes:
    """The member of a table's `index` that puts `id_key` in the index `name`."""
    return f"{name}\0{id_key:0{ID_DIGITS}d}".encode()


def index_entry(member: bytes) -> tuple[str, int]:
    """The index name and id_key of a member of a table's `index`."""
    name, _, id_key = member.partition(b"\0")
    return name.decode(), int(id_key)


async def mget(redis: Redis | RedisCluster, keys: Sequence[str]) -> list[Any]:
    """Keys of several projections in one MGET on a single Redis; on a cluster, where each
    projection's keys hash to a slot of their own, one MGET per slot (in the keys' order)."""
    if not keys:
        return []
    if isinstance(redis, RedisCluster):
        return list(await redis.mget_nonatomic(list(keys)))
    return list(await redis.mget(list(keys)))


async def table_contents(redis: Redis, prefix: str) -> tuple[dict[int, bytes], dict[str, set[int]]]:
    """Everything a table of a generation holds for readers, by its key prefix: its documents
    by id, and each index's ids by name (for checks and tests: it reads the whole table)."""
    docs = cast("dict[bytes, bytes]", await redis.hgetall(f"{prefix}docs"))
    members = cast("list[bytes]", await redis.zrange(f"{prefix}index", 0, -1))
    indexes: dict[str, set[int]] = {}
    for member in members:
        name, id_key = index_entry(member)
        indexes.setdefault(name, set()).add(id_key)
    return {int(i): doc for i, doc in docs.items()}, indexes

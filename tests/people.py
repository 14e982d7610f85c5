"""People with personal data, made through the command API, and everything PostgreSQL and Redis
hold, as text: what the erasure tests look for an erased person's values in."""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from redis.asyncio import Redis

from tests.conftest import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def erase(api: httpx.AsyncClient, client: int) -> httpx.Response:
    return await api.post("/admin/erasures", json={"client_id": client}, headers=ADMIN)


def word(rng: random.Random) -> str:
    """A value found nowhere else: letters no hex digest or number ever spells."""
    return "zq" + "".join(rng.choices("ghijklmnopqrstuvwxyz", k=10))


@dataclass
class Person:
    client: int
    email: str
    name: str  # the name the client has now
    values: set[str] = field(default_factory=set)  # every personal value theirs (not moved out)
    deleted: bool = False
    gone: set[str] = field(default_factory=set)  # what they held when erased (later data stays)


async def new_person(api: httpx.AsyncClient, rng: random.Random, addresses: int = 2) -> Person:
    name, lastname, user = word(rng), word(rng), word(rng)
    telephone = "+44" + "".join(rng.choices(string.digits, k=9))
    body = {"name": name, "lastname": lastname, "email": f"{user}@example.org",
            "telephone": telephone}  # fmt: skip
    created = await api.post("/clients", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert created.status_code == 201, created.text
    person = Person(
        created.json()["id_key"], body["email"], name, {name, lastname, user, telephone}
    )
    for _ in range(addresses):
        street, city = word(rng), word(rng)
        address = {"street": street, "number": "7", "city": city, "client_id": person.client}
        assert (await api.post("/addresses", json=address)).status_code == 201
        person.values |= {street, city}
    person.name = word(rng)
    assert (await api.put(f"/clients/{person.client}", json={"name": person.name})).is_success
    person.values.add(person.name)
    return person


async def everything(database_url: str, redis: list[Redis]) -> dict[str, str]:
    """Every row of every table, and every value of every key, as text, by where it is."""
    chunks: dict[str, str] = {}
    with psycopg.connect(database_url) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            row = conn.execute(
                f'SELECT coalesce(string_agg(t::text, chr(10)), \'\') FROM "{schema}"."{table}" t'
            ).fetchone()
            assert row is not None
            chunks[f"{schema}.{table}"] = row[0]
    for n, client in enumerate(redis):
        async for key in client.scan_iter(count=1000):
            name = key.decode(errors="replace")
            chunks[f"redis {n} {name}"] = f"{name} {await _value(client, key)}"
    return chunks


async def _value(client: Redis, key: bytes) -> Any:
    kind = (await client.type(key)).decode()
    reads = {
        "string": lambda: client.get(key),
        "hash": lambda: client.hgetall(key),
        "zset": lambda: client.zrange(key, 0, -1),
        "set": lambda: client.smembers(key),
        "list": lambda: client.lrange(key, 0, -1),
        "stream": lambda: client.xrange(key),
    }
    return await reads[kind]() if kind in reads else None

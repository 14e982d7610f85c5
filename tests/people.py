"""People with personal data, made through the command API, and everything PostgreSQL and Redis
hold, as text: what the erasure tests look for an erased person's values in."""

from __future__ import annotations

import random
import string
import uuid
from dataclasses import dataclass, field

import httpx

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

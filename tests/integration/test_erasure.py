"""Erasure of a person's data from an append-only log (crypto-shredding): after it, no plaintext
value of theirs is anywhere in PostgreSQL (every table) or Redis (every key), every read path
shows their fields as null, and everything else reads as before; the hash chain still verifies,
and a rebuild from the log gives the same documents."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from loadtest.scan import every_value, found
from orders.embedded import Endpoints
from orders.store import open_sealed_store
from orders.vault import MasterKey, VaultError
from projector import rebuild
from tests.conftest import command_client
from tests.keys import MASTER
from tests.people import ADMIN, Person, erase, new_person, word
from tests.query import AUDIT, Projected
from tests.shop import Shop

pytestmark = pytest.mark.integration

MASTER_TEXT = os.environ["ORDERS_MASTER_KEY"]  # what tests.keys parsed MASTER from

EXAMPLES = itertools.count()


async def test_an_erased_person_reads_as_null_everywhere_and_the_rest_as_before(
    commands: httpx.AsyncClient, query_api: httpx.AsyncClient, projected: Projected
) -> None:
    rng = random.Random(17)
    shop = Shop(commands)
    ada, grace = await new_person(commands, rng), await new_person(commands, rng)
    bill = await shop.bill(ada.client, total=50)
    order = await shop.create("/orders", delivery_method=3, client_id=ada.client, bill_id=bill)
    product = await shop.product(stock=5)
    assert (await shop.line(order["id_key"], product, 2)).status_code == 201
    await projected.catch_up()
    kept = {path: (await query_api.get(path)).content
            for path in (f"/orders/{order['id_key']}", f"/bills/{bill}", f"/products/{product}",
                         f"/clients/{grace.client}")}  # fmt: skip

    erased = await erase(commands, ada.client)
    await projected.catch_up()

    assert erased.status_code == 201, erased.text
    assert erased.json()["keys_destroyed"] == 1
    document = (await query_api.get(f"/clients/{ada.client}")).json()
    assert document == {"id_key": ada.client, "name": None, "lastname": None, "email": None,
                        "telephone": None, "erased": True}  # fmt: skip
    addresses = (await query_api.get("/addresses", params={"client_id": ada.client})).json()
    assert len(addresses) == 2
    assert all(a["street"] is a["city"] is a["number"] is None and a["erased"] for a in addresses)
    for path, content in kept.items():  # everything else reads the same
        assert (await query_api.get(path)).content == content, path
    history = (await query_api.get(f"/clients/{ada.client}/history", headers=AUDIT)).json()
    assert history[0]["type"] == "ClientCreated"
    assert history[0]["data"]["email"] is None
    assert history[-1]["type"] == "PersonalDataErased"
    as_of = await query_api.get(
        f"/clients/{ada.client}", params={"as_of": history[0]["feed_position"]}, headers=AUDIT
    )
    assert as_of.json()["name"] is None
    assert (await query_api.get("/audit/verify", headers=AUDIT)).json()["ok"] is True
    # the email is free again: the erasure released its claim
    assert (await commands.post("/clients", json={"email": ada.email})).status_code == 201


async def test_a_rebuild_from_the_log_gives_the_erased_documents_again(
    commands: httpx.AsyncClient, query_api: httpx.AsyncClient, projected: Projected
) -> None:
    rng = random.Random(5)
    ada = await new_person(commands, rng)
    assert (await erase(commands, ada.client)).status_code == 201
    await projected.catch_up()
    paths = (f"/clients/{ada.client}", f"/addresses?client_id={ada.client}")
    before = [(await query_api.get(path)).content for path in paths]

    await rebuild.rebuild(projected.engine, rebuild.chosen(["clients"]), progress=False)

    after = [(await query_api.get(path)).content for path in paths]
    assert after == before


async def test_the_first_response_to_a_retried_create_is_erased_with_the_person(
    commands: httpx.AsyncClient, projected: Projected
) -> None:
    body = {"name": "Ada", "email": "zqada@example.org"}
    first = await commands.post("/clients", json=body, headers={"Idempotency-Key": "ada-1"})
    assert first.json()["name"] == "Ada"

    await erase(commands, first.json()["id_key"])
    retried = await commands.post("/clients", json=body, headers={"Idempotency-Key": "ada-1"})

    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json() == {**first.json(), "name": None, "email": None, "erased": True}


async def test_erasure_needs_an_operator_and_an_existing_client(
    commands: httpx.AsyncClient,
) -> None:
    assert (await erase(commands, 999)).status_code == 404
    assert (await commands.post("/admin/erasures", json={"client_id": 1})).status_code == 401
    wrong = {"Authorization": "Bearer wrong"}
    refused = await commands.post("/admin/erasures", json={"client_id": 1}, headers=wrong)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    bad = await commands.post("/admin/erasures", json={"client": 1}, headers=ADMIN)
    assert bad.status_code == 422


async def test_without_sealing_an_erasure_is_refused_before_anything_is_appended(
    unsealed: httpx.AsyncClient, database_url: str
) -> None:
    created = await unsealed.post("/clients", json={"name": "Ada"})
    refused = await erase(unsealed, created.json()["id_key"])

    assert refused.status_code == 409
    assert refused.json()["code"] == "personal_data_not_sealed"
    with psycopg.connect(database_url) as conn:
        types = conn.execute("SELECT array_agg(event_type) FROM events").fetchone()
    assert types == (["ClientCreated"],)


async def test_the_command_path_holds_nothing_of_an_erased_person(
    commands: httpx.AsyncClient,
) -> None:
    ada = await new_person(commands, random.Random(3))
    path = commands.app.state.commands.path  # type: ignore[attr-defined]
    assert path.states.peek(f"client-{ada.client}").name is not None

    await erase(commands, ada.client)

    held = path.states.peek(f"client-{ada.client}")
    assert held is None or (held.name, held.email) == (None, None)
    changed = await commands.put(f"/clients/{ada.client}", json={"telephone": "+4412345678"})
    assert changed.json()["name"] is None  # read from the log again: nothing of before


async def test_an_erasure_covers_what_was_written_before_sealing_on_every_read_path(
    unsealed: httpx.AsyncClient,
    commands: httpx.AsyncClient,
    query_api: httpx.AsyncClient,
    projected: Projected,
) -> None:
    rng = random.Random(23)
    ada, grace = await new_person(unsealed, rng), await new_person(unsealed, rng)
    bill = await Shop(unsealed).bill(ada.client, total=30)
    await projected.catch_up()
    before = (await query_api.get(f"/clients/{ada.client}")).json()
    assert before["name"] == ada.name, "written plain, read as it is while not erased"
    others = (f"/clients/{grace.client}", f"/bills/{bill}")
    kept = [(await query_api.get(p)).content for p in others]

    erased = await erase(commands, ada.client)  # sealing on since
    await projected.catch_up()

    assert erased.status_code == 201, erased.text
    assert erased.json()["keys_destroyed"] == 1, "a key made only to be destroyed: the mark"
    document = (await query_api.get(f"/clients/{ada.client}")).json()
    assert document == {"id_key": ada.client, "name": None, "lastname": None, "email": None,
                        "telephone": None, "erased": True}  # fmt: skip
    addresses = (await query_api.get("/addresses", params={"client_id": ada.client})).json()
    assert [(a["street"], a["city"], a["erased"]) for a in addresses] == [(None, None, True)] * 2
    history = await query_api.get(f"/clients/{ada.client}/history", headers=AUDIT)
    feed = await query_api.get("/events", headers=AUDIT)
    as_of = await query_api.get(
        f"/clients/{ada.client}", params={"as_of": history.json()[0]["feed_position"]},
        headers=AUDIT,
    )  # fmt: skip
    for read in (history, feed, as_of):
        assert read.status_code == 200, read.text
        assert not [v for v in ada.values if v in read.text], read.request.url
    assert grace.name in feed.text, "the others' plain values still read"
    assert [(await query_api.get(p)).content for p in others] == kept
    paths = (f"/clients/{ada.client}", f"/addresses?client_id={ada.client}")
    projected_once = [(await query_api.get(p)).content for p in paths]
    await rebuild.rebuild(projected.engine, rebuild.chosen(["clients"]), progress=False)
    assert [(await query_api.get(p)).content for p in paths] == projected_once
    changed = await commands.put(f"/clients/{ada.client}", json={"telephone": "+4412345678"})
    assert changed.json()["name"] is None, "the command path folds the plain events as null"
    # the email's claim, taken plain before sealing, was released by the erasure
    assert (await commands.post("/clients", json={"email": ada.email})).status_code == 201
    assert (await query_api.get("/audit/verify", headers=AUDIT)).json()["ok"] is True


# --- the property: whatever happened, nothing of an erased person is left -------------------


@st.composite
def stories(draw: st.DrawFn) -> list[tuple[str, int]]:
    """People made (some before sealing: "legacy"), changed, moved, deleted and erased, in any
    order."""
    steps = ["person", "legacy", "person"]
    kinds = ["person", "legacy", "address", "move", "delete", "erase"]
    steps += draw(st.lists(st.sampled_from(kinds), min_size=2, max_size=10))
    return [(step, draw(st.integers(0, 100))) for step in steps]


@dataclass
class Told:
    people: list[Person] = field(default_factory=list)
    erased: list[Person] = field(default_factory=list)
    plain: set[str] = field(default_factory=set)  # values written plain, before sealing


async def _tell(
    api: httpx.AsyncClient,
    unsealed: httpx.AsyncClient,
    story: list[tuple[str, int]],
    rng: random.Random,
) -> Told:
    told = Told()
    people, erased = told.people, told.erased
    for step, pick in story:
        if step in {"person", "legacy"} or not people:
            writer = unsealed if step == "legacy" else api
            people.append(await new_person(writer, rng, addresses=rng.randint(0, 2)))
            if writer is unsealed:
                told.plain |= people[-1].values
            continue
        person = people[pick % len(people)]
        if step == "address":
            street = word(rng)
            await api.post("/addresses", json={"street": street, "client_id": person.client})
            person.values.add(street)
        elif step == "move" and len(people) > 1:
            await _move_addresses(api, person, people[(pick + 1) % len(people)])
        elif step == "delete":
            # a second delete is a 404 and leaves the person deleted
            person.deleted |= (await api.delete(f"/clients/{person.client}")).is_success
        elif step == "erase" and person not in erased:
            assert (await erase(api, person.client)).status_code == 201
            person.gone = set(person.values)
            erased.append(person)
    return told


async def _move_addresses(api: httpx.AsyncClient, person: Person, target: Person) -> None:
    """The person's addresses go to another client, and their values with them."""
    for address in await _addresses(api, person.client):
        moved = await api.put(f"/addresses/{address}", json={"client_id": target.client})
        if moved.is_success:
            carried = person.values & {v for v in moved.json().values() if isinstance(v, str)}
            person.values -= carried
            target.values |= carried
            person.gone -= carried  # given after the erasure: the new holder's now


async def _addresses(api: httpx.AsyncClient, client: int) -> list[int]:
    """The client's addresses, from what the command API answers (not the read models)."""
    path = api.app.state.commands.path  # type: ignore[attr-defined]
    state = (await path.states.load([f"client-{client}"]))[f"client-{client}"].state
    return [] if state is None else [a.id_key for a in state.addresses]


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # a database per shrink is too slow
)
@given(story=stories(), seed=st.integers(0, 2**16))
async def test_no_plaintext_value_of_an_erased_person_is_left_in_postgresql_or_redis(
    commands: httpx.AsyncClient,
    unsealed: httpx.AsyncClient,
    projected: Projected,
    story: list[tuple[str, int]],
    seed: int,
) -> None:
    # words never seen in an earlier example: examples share the test's database
    rng = random.Random(seed * 7919 + next(EXAMPLES))
    told = await _tell(commands, unsealed, story, rng)
    await projected.catch_up()
    command_redis = commands.app.state.backends.redis  # type: ignore[attr-defined]

    chunks = await every_value(projected.database_url, [projected.redis, command_redis])

    gone = set().union(*(p.gone for p in told.erased))
    # What was written before sealing stays in `events` (never rewritten) until the store is
    # copied; everywhere else it is gone, and every read opens it as null.
    plain_in_log = {(value, "public.events") for value in told.plain}
    left = [f for f in found(gone, chunks) if (f[0], f[1]) not in plain_in_log]
    assert not left, left
    text = "\n".join(chunks.values())
    for person in told.people:  # everyone else still reads as they are
        if person not in told.erased and not person.deleted:
            assert person.name in text
    for person in told.erased:  # and every read path shows the erased as null
        history = await _history(projected, person.client)
        assert not [v for v in person.gone if v in history]


async def _history(projected: Projected, client: int) -> str:
    """The client's events as every read path opens them."""
    events = await projected.store.read_stream(f"client-{client}")
    return str([e.data for e in events])


def _orders(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "launch.cli", *args], capture_output=True, text=True, timeout=120,
        check=False, env={**os.environ, "LOG_LEVEL": "WARNING", **env},
    )  # fmt: skip


def _facts(database_url: str, stream: str) -> tuple[list[str], int, int]:
    """The stream's event types, its live data keys, and the claims it holds."""
    with psycopg.connect(database_url) as conn:
        types = [r[0] for r in conn.execute(
            "SELECT event_type FROM events WHERE stream_id = %s ORDER BY version", (stream,)
        )]  # fmt: skip
        live = conn.execute(
            "SELECT count(*) FROM data_keys WHERE subject = %s AND wrapped IS NOT NULL", (stream,)
        ).fetchone()
        claims = conn.execute(
            "SELECT count(*) FROM unique_claims WHERE owner_stream = %s", (stream,)
        ).fetchone()
    assert live is not None
    assert claims is not None
    return types, live[0], claims[0]


async def test_the_cli_erases_and_erases_again_in_a_backup_restored_from_before(
    fresh_database: Callable[[], str], servers: Endpoints, tmp_path: Path
) -> None:
    source = fresh_database()
    async with command_client(source, servers.redis_url) as api:
        person = await new_person(api, random.Random(7), addresses=1)
    stream = f"client-{person.client}"
    backup = fresh_database()  # a backup taken before the erasure, restored later
    with psycopg.connect(servers.database_url, autocommit=True) as conn:
        name, of = (urlsplit(url).path.lstrip("/") for url in (backup, source))
        conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{of}"')
    env = {"REDIS_URL": servers.redis_url, "ORDERS_ERASURE_REGISTER": str(tmp_path / "register"),
           "ORDERS_DATA_DIR": str(tmp_path / "data")}  # fmt: skip

    erased = _orders("erase", "client", str(person.client), DATABASE_URL=source, **env)

    assert erased.returncode == 0, erased.stderr
    assert erased.stdout.startswith(f"client {person.client}: personal data erased (1 key(s)")
    assert _facts(source, stream) == (["ClientCreated", "AddressAdded", "ClientChanged",
                                       "PersonalDataErased"], 0, 1)  # fmt: skip
    assert _facts(backup, stream)[1:] == (1, 2), "the backup still holds the key and the email"

    restored = _orders("erase", "reapply", DATABASE_URL=backup, **env)

    assert restored.returncode == 0, restored.stderr
    assert restored.stdout.strip() == (
        "1 erasure(s) re-applied; 1 were missing from the log and appended again"
    )
    assert _facts(backup, stream) == _facts(source, stream), "the same as the live one"
    again = _orders("erase", "reapply", DATABASE_URL=source, **env)
    assert again.stdout.strip().endswith("0 were missing from the log and appended again")
    assert _facts(source, stream)[0].count("PersonalDataErased") == 1
    unknown = _orders("erase", "client", "999999", DATABASE_URL=source, **env)
    assert (unknown.returncode, unknown.stderr.strip()) == (
        2,
        "orders: Client with id 999999 not found",
    )


async def _first_name(database_url: str, master: MasterKey, stream: str) -> Any:
    store, _ = await open_sealed_store(
        database_url, master=master, max_size=1, application_name="test-rewrap"
    )
    try:
        return (await store.read_streams([stream]))[stream][0].data["name"]
    finally:
        await store.close()


async def test_a_new_master_key_takes_over_every_data_key_with_no_read_refused_meanwhile(
    commands: httpx.AsyncClient, database_url: str, servers: Endpoints, tmp_path: Path
) -> None:
    person = await new_person(commands, random.Random(11), addresses=0)
    stream = f"client-{person.client}"
    new_text = MasterKey.generate()
    new, rotating = MasterKey.parse(new_text), MasterKey.parse(new_text).after(MASTER)
    env = {"DATABASE_URL": database_url, "REDIS_URL": servers.redis_url,
           "ORDERS_DATA_DIR": str(tmp_path / "data"), "ORDERS_MASTER_KEY": new_text}  # fmt: skip
    name = await _first_name(database_url, MASTER, stream)
    assert name in person.values

    refused = _orders("keys", "rewrap", **env)
    assert await _first_name(database_url, rotating, stream) == name, "both keys given: opens"
    moved = _orders("keys", "rewrap", ORDERS_PREVIOUS_MASTER_KEY=MASTER_TEXT, **env)

    assert refused.returncode == 2
    assert "ORDERS_PREVIOUS_MASTER_KEY" in refused.stderr
    assert moved.returncode == 0, moved.stderr
    # two keys: the person's, and the one the claims' hashes are keyed with
    assert moved.stdout.startswith(f"2 data key(s) now wrapped by master key {new.id}")
    assert await _first_name(database_url, rotating, stream) == name
    assert await _first_name(database_url, new, stream) == name, "the old key is not needed"
    with pytest.raises(VaultError, match="orders keys rewrap"):
        await _first_name(database_url, MASTER, stream)


async def test_sealed_reads_of_many_people_at_once_never_wait_for_a_second_connection(
    commands: httpx.AsyncClient, database_url: str
) -> None:
    rng = random.Random(5)
    people = [await new_person(commands, rng, addresses=0) for _ in range(12)]
    store, _ = await open_sealed_store(
        database_url, master=MASTER, max_size=2, application_name="test-crowded-reads"
    )
    try:
        # each read opens its person's keys while it holds one of the pool's two connections
        reads = [store.read_stream(f"client-{p.client}") for p in people]
        streams = await asyncio.wait_for(asyncio.gather(*reads), timeout=20)
    finally:
        await store.close()

    assert [s[-1].data["name"] for s in streams] == [p.name for p in people]

"""`orders store copy`: the one-off that takes personal values written before sealing out of the
log, by copying the store into a new database (never by rewriting `events`). The new store holds
no plain personal value, reads and rebuilds the same, verifies, names where each event came
from, and a copy interrupted half-way resumes to the same store."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from redis.asyncio import Redis

from eventstore import EventStore, EventStoreError
from loadtest.scan import every_value, found
from orders.embedded import Endpoints
from orders.store import open_store
from orders.store_copy import copy_store, database_name
from orders.vault import Vault
from projector.engine import open_engine
from tests.conftest import TEST_DATA, command_client, with_database
from tests.keys import MASTER
from tests.people import Person, erase, new_person
from tests.query import AUDIT, Projected, query_client, query_settings, with_redis_db
from tests.shop import Shop

pytestmark = pytest.mark.integration

COPY_REDIS_DB = 13  # the new store's read models, flushed before the test


@pytest.fixture
def empty_database(servers: Endpoints) -> Iterator[Callable[[], str]]:
    """Makes empty databases (no schema: the copy migrates them), dropped after the test."""
    names: list[str] = []

    def make() -> str:
        names.append(f"orders_copy_{uuid.uuid4().hex[:12]}")
        with psycopg.connect(servers.database_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{names[-1]}"')
        return with_database(servers.database_url, names[-1])

    yield make
    with psycopg.connect(servers.database_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _orders(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "launch.cli", *args], capture_output=True, text=True, timeout=120,
        check=False, env={**os.environ, "LOG_LEVEL": "WARNING", **env},
    )  # fmt: skip


@pytest.fixture
def world(servers: Endpoints, tmp_path: Path) -> dict[str, str]:
    return {"REDIS_URL": servers.redis_url, "ORDERS_DATA_DIR": str(tmp_path / "data")}


async def _reads(database_url: str, redis_url: str, paths: list[str]) -> dict[str, Any]:
    """What the query API answers for `paths` once a projector has built the read models of
    the database from its log (on a flushed Redis database)."""
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    engine = await open_engine(database_url, redis_url, master=MASTER, application_name="test")
    try:
        await Projected(engine, redis, redis_url, database_url).catch_up()
        async with query_client(query_settings(TEST_DATA), database_url, redis_url) as api:
            return {path: _origin_left_out((await api.get(path, headers=AUDIT)).json())
                    for path in paths}  # fmt: skip
    finally:
        await engine.close()
        await redis.aclose()


def _origin_left_out(document: Any) -> Any:
    """A history as it read in the old store: its events' metadata without `copied_from`."""
    if isinstance(document, list):
        return [_origin_left_out(item) for item in document]
    if isinstance(document, dict) and isinstance(document.get("metadata"), dict):
        metadata = {k: v for k, v in document["metadata"].items() if k != "copied_from"}
        return {**document, "metadata": metadata}
    return document


async def _opened_feed(database_url: str) -> list[tuple[Any, ...]]:
    """Every event as every read path opens it (upcast, unsealed), without its metadata."""
    store = await open_store(database_url, master=MASTER, max_size=2, application_name="test")
    try:
        events = await store.read_feed(0, 100_000)
    finally:
        await store.close()
    return [(e.feed_position, e.stream_id, e.version, e.event_id, e.type, e.data, e.recorded_at)
            for e in events]  # fmt: skip


@pytest.fixture
async def story(unsealed: httpx.AsyncClient, commands: httpx.AsyncClient) -> dict[str, Any]:
    """Two people written before sealing (one erased since), one after; a bill of each of the
    two, one written before sealing and one after."""
    rng = random.Random(41)
    shop = Shop(unsealed)
    ada, grace = await new_person(unsealed, rng), await new_person(unsealed, rng, addresses=1)
    bill = await shop.bill(ada.client, total=20)
    hopper = await new_person(commands, rng, addresses=1)
    later = await shop.bill(grace.client, total=10)
    assert (await erase(commands, ada.client)).status_code == 201
    people = [ada, grace, hopper]
    paths = [f"/clients/{p.client}" for p in people]
    paths += [f"/clients/{p.client}/history" for p in people]
    paths += [f"/addresses?client_id={p.client}" for p in people]
    paths += [f"/bills/{bill}", f"/bills/{later}"]
    return {"people": people, "paths": paths}


def _texts(database_url: str, sql: str) -> str:
    with psycopg.connect(database_url) as conn:
        return "\n".join(str(row) for row in conn.execute(sql))


async def test_the_copy_seals_every_plain_value_and_reads_the_same(
    story: dict[str, Any],
    database_url: str,
    empty_database: Callable[[], str],
    servers: Endpoints,
    world: dict[str, str],
) -> None:
    told = story
    people: list[Person] = told["people"]
    plain = _texts(database_url, "SELECT data FROM events")
    assert people[0].name in plain, "the old store holds plain values (and keeps them)"
    target = empty_database()

    copied = _orders("store", "copy", "--to", target, DATABASE_URL=database_url, **world)

    assert copied.returncode == 0, copied.stderr
    assert " the new chain: ok," in copied.stdout
    values = set().union(*(p.values for p in people))
    left = found(values, await every_value(target, []))
    assert not left, f"no plain personal value anywhere in the new database: {left}"
    redis_url = with_redis_db(servers.redis_url, COPY_REDIS_DB)
    before = await _reads(database_url, redis_url, told["paths"])
    after = await _reads(target, redis_url, told["paths"])
    assert after == before, "the projector rebuilds the same documents, histories included"
    assert before[f"/clients/{people[0].client}"]["name"] is None
    assert before[f"/clients/{people[1].client}"]["name"] == people[1].name
    assert await _opened_feed(target) == await _opened_feed(database_url)
    with psycopg.connect(target) as new, psycopg.connect(database_url) as old:
        origins = [r[0] for r in new.execute(
            "SELECT e.metadata->'copied_from' FROM events e JOIN feed f USING (global_position)"
            " ORDER BY f.feed_position")]  # fmt: skip
        hashes = [r[0].hex() for r in old.execute("SELECT hash FROM feed ORDER BY feed_position")]
        sequences = "SELECT sequencename, last_value FROM pg_sequences ORDER BY 1"
        assert new.execute(sequences).fetchall() == old.execute(sequences).fetchall()
    assert origins == [
        {"database": database_name(database_url), "feed_position": n, "hash": h}
        for n, h in enumerate(hashes, start=1)
    ]
    verified = _orders("audit", "verify", DATABASE_URL=target, **world)
    assert verified.stdout.strip() == f"ok: {len(hashes)} feed positions verified", verified.stderr
    again = _orders("store", "copy", "--to", target, DATABASE_URL=database_url, **world)
    assert again.stdout.startswith("0 event(s) copied, up to feed position"), again.stderr
    # the new store takes new clients where the old one left off; the emails are still claimed
    async with command_client(target, servers.redis_url) as api:
        taken = await api.post("/clients", json={"email": people[1].email})
        created = await api.post("/clients", json={"email": people[0].email})
    assert taken.status_code == 409
    assert created.status_code == 201
    assert created.json()["id_key"] > max(p.client for p in people)


async def test_an_interrupted_copy_resumes_to_the_same_store_and_no_other_is_mixed_in(
    story: dict[str, Any], database_url: str, fresh_database: Callable[[], str]
) -> None:
    whole, resumed = fresh_database(), fresh_database()
    name = database_name(database_url)

    class StoppedError(Exception):
        pass

    def stop_after_one_page(position: int) -> None:
        raise StoppedError(position)

    async with (
        await EventStore.open(database_url) as old,
        await EventStore.open(whole) as copy,
        await EventStore.open(resumed) as half,
    ):
        await copy_store(old, copy, MASTER, source_name=name, page=3)
        with pytest.raises(StoppedError):
            await copy_store(old, half, MASTER, source_name=name, page=3,
                             progress=stop_after_one_page)  # fmt: skip
        assert await half.last_copied() == (name, 3)
        done = await copy_store(old, half, MASTER, source_name=name, page=3)
        head = (await old.feed_status()).head
        report = await half.verify()
        with pytest.raises(EventStoreError, match="not of"):
            await copy_store(copy, half, MASTER, source_name="another", page=3)
        with pytest.raises(EventStoreError, match="not copied"):
            await copy_store(copy, old, MASTER, source_name="another", page=3)

    assert (done.events, done.feed_position) == (head - 3, head)
    # the old store written to after a copy made a key of its own for someone without one
    grace = f"client-{story['people'][1].client}"
    async with (
        await EventStore.open(database_url) as old,
        await EventStore.open(resumed) as half,
    ):
        await Vault(old, MASTER).seal(grace, [{"name": "Grace"}])
        with pytest.raises(EventStoreError, match=f"key 1 of {grace} differs"):
            await copy_store(old, half, MASTER, source_name=name, page=3)
    assert (report.ok, report.checked) == (True, head)
    assert await _opened_feed(resumed) == await _opened_feed(whole)

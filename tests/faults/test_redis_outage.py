"""Redis stopped (or killed) while the shop writes and reads, and the projector restarted in the
middle of it: writes go on, reads come from the PostgreSQL read models and say so, the rate
limiter lets everyone through; Redis back, the read models there catch up and reads come from
Redis again, with nobody doing anything."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from loadtest import invariants
from loadtest.cluster import RATE_LIMIT_CALLS, Cluster
from tests.faults.conftest import FULL, client, rounds, steps, traffic
from tests.projection import eventually

pytestmark = pytest.mark.faults


async def burst(url: str, address: str) -> list[httpx.Response]:
    """More requests than the limit allows one client, all from `address`."""
    async with httpx.AsyncClient(headers={"X-Forwarded-For": address}, timeout=10) as http:
        return [await http.get(f"{url}/categories") for _ in range(RATE_LIMIT_CALLS + 5)]


def fresh_address() -> str:
    n = uuid.uuid4().int
    return f"172.{16 + n % 16}.{n >> 8 & 255}.{n >> 16 & 255}"


async def create_product(api: httpx.AsyncClient) -> tuple[int, str]:
    category = await api.post("/categories", json={"name": f"Redis-less {uuid.uuid4().hex}"})
    assert category.status_code == 201, category.text
    product = await api.post(
        "/products",
        json={"name": "Lamp", "price": 12.5, "stock": 7, "category_id": category.json()["id_key"]},
    )
    assert product.status_code == 201, product.text
    return product.json()["id_key"], product.headers["x-consistency-token"]


MODES = [pytest.param(True, id="killed"), pytest.param(False, id="stopped")]


@pytest.mark.parametrize("kill", MODES if FULL else MODES[:1])
async def test_without_redis_writes_go_on_reads_fall_back_and_the_limiter_fails_open(
    healed: Cluster, kill: bool
) -> None:
    cluster = healed
    limited = await burst(cluster.query_url, fresh_address())
    assert 429 in [r.status_code for r in limited], "the limiter must be on to fail open"

    async with (
        traffic(cluster, seed=21 + kill) as shop,
        client(cluster.command_url) as writes,
        client(cluster.query_url) as reads,
    ):
        cluster.servers.stop_redis(kill=kill)
        cluster.kill_projector()  # and its replacement starts with Redis down
        projector = cluster.services["projector"].pid
        await asyncio.sleep(3)  # longer than the projector's pause before it reconnects
        for _ in range(rounds(1, 4)):
            product, token = await create_product(writes)  # raises unless 201
            await steps(shop, 5)
            read = await reads.get(f"/products/{product}", headers={"X-Consistency-Token": token})
            assert read.status_code == 200, read.text  # the projector keeps PostgreSQL current
            assert read.headers["x-read-source"] == "postgres"
            assert read.json()["stock"] == 7
        unlimited = await burst(cluster.query_url, fresh_address())
        assert {r.status_code for r in unlimited} == {200}
        assert all("x-ratelimit-limit" not in r.headers for r in unlimited)
        health = (await reads.get("/health_check")).json()["checks"]
        assert (health["redis"]["status"], health["database"]["status"]) == ("down", "up")
        assert health["reads"]["sources"] == ["postgres"]

        cluster.servers.start_redis()  # and nothing else: no restart, no rebuild

        async def from_redis_again() -> bool:
            again = await reads.get(f"/products/{product}")
            assert again.headers["x-read-source"] == "redis"
            assert again.content == read.content
            return True

        await eventually(from_redis_again, seconds=60)
        await steps(shop, 5)
        assert cluster.services["projector"].alive()
        assert cluster.services["projector"].pid == projector

    # no write failed, and the only 5xx are reads that waited for a write in vain
    assert shop.tally.count("5") == shop.tally.count("503 projection_behind")
    assert shop.tally.count("transport") == 0
    assert shop.tally.sources["postgres"] > 0
    await invariants.wait_caught_up(cluster.database_url, cluster.redis_url)
    redis_docs, _ = await invariants.redis_snapshot(cluster.redis_url)
    assert redis_docs == await invariants.postgres_snapshot(cluster.database_url)
    assert 429 in [r.status_code for r in await burst(cluster.query_url, fresh_address())]
    once = await invariants.writes_are_exactly_once(
        cluster.database_url, shop.ledger.writes, every_keyed_write=False
    )
    assert once.passed, once.detail

"""Read-your-writes: a read carrying the write's X-Consistency-Token shows that write, every time,
or says 503 with Retry-After; it is never silently stale."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from orders.consistency import token_for
from tests.conftest import TEST_DATA
from tests.query import DEAD_REDIS, Projected, query_client, query_settings
from tests.shop import Shop

pytestmark = pytest.mark.integration

TOKEN = "X-Consistency-Token"


def token_of(response: httpx.Response) -> dict[str, str]:
    assert response.status_code in {200, 201, 204}, response.text
    return {TOKEN: response.headers["x-consistency-token"]}


async def test_a_read_with_its_writes_token_shows_the_write_every_time(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    product, order = await shop.product(stock=1000), await shop.order()
    async with projected.running():
        for n in range(20):
            changed = await command_api.put(f"/products/{product}", json={"stock": 500 + n})
            read = await query_api.get(f"/products/{product}", headers=token_of(changed))
            assert read.status_code == 200
            assert read.json()["stock"] == 500 + n, (n, read.headers["x-read-source"])
            line = await shop.line(order, product, 1)
            listed = await query_api.get(f"/order_details?order_id={order}", headers=token_of(line))
            assert line.json()["id_key"] in [d["id_key"] for d in listed.json()], n
            named = await command_api.post("/categories", json={"name": f"Aisle {n}"})
            categories = await query_api.get("/categories?limit=1000", headers=token_of(named))
            assert categories.json()[-1] == named.json(), n


async def test_without_a_token_reads_converge(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    category = await shop.category("Before")
    await projected.catch_up()
    async with projected.running():
        await command_api.put(f"/categories/{category}", json={"name": "After"})
        deadline = time.monotonic() + 10
        while (await query_api.get(f"/categories/{category}")).json()["name"] != "After":
            assert time.monotonic() < deadline, "the read model never caught up"
            await asyncio.sleep(0.02)


async def test_a_token_the_projection_cannot_reach_in_time_is_a_503(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, database_url: str
) -> None:
    category = await shop.category("Before")
    await projected.catch_up()
    changed = await command_api.put(f"/categories/{category}", json={"name": "After"})
    settings = query_settings(TEST_DATA, ORDERS_CONSISTENCY_WAIT=0.3)
    async with query_client(settings, database_url, projected.redis_url) as api:
        started = time.monotonic()
        unsequenced = await api.get(f"/categories/{category}", headers=token_of(changed))
        waited = time.monotonic() - started
        await projected.store.sequence()  # in the feed now, but not projected
        behind = await api.get("/categories", headers=token_of(changed))
        plain = await api.get(f"/categories/{category}")
    for response in (unsequenced, behind):
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        body = response.json()
        assert body["code"] == "projection_behind"
        assert body["request_id"] == response.headers["x-request-id"]
    assert 0.3 <= waited < 2
    assert (
        int(behind.headers["x-projection-position"])
        < int(plain.headers["x-projection-position"]) + 1
    )
    assert plain.json()["name"] == "Before"  # without a token, the stale answer is allowed


async def test_a_token_waits_for_a_projection_that_catches_up_meanwhile(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    category = await shop.category("Before")
    changed = await command_api.put(f"/categories/{category}", json={"name": "After"})

    async def project_later() -> None:
        await asyncio.sleep(0.3)
        await projected.catch_up()

    later = asyncio.create_task(project_later())
    read = await query_api.get(f"/categories/{category}", headers=token_of(changed))
    await later
    assert (read.status_code, read.json()["name"]) == (200, "After")


async def test_postgresql_answers_a_token_that_redis_has_not_reached(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    product = await shop.product(stock=5)
    await projected.catch_up()
    changed = await command_api.put(f"/products/{product}", json={"stock": 6})
    await projected.catch_up_postgresql_only()  # PostgreSQL moves on; Redis stays behind
    stale = await query_api.get(f"/products/{product}")
    fresh = await query_api.get(f"/products/{product}", headers=token_of(changed))
    assert (stale.json()["stock"], stale.headers["x-read-source"]) == (5, "redis")
    assert (fresh.json()["stock"], fresh.headers["x-read-source"]) == (6, "postgres")
    assert int(fresh.headers["x-projection-position"]) > int(stale.headers["x-projection-position"])


async def test_a_token_is_honoured_from_postgresql_when_redis_is_down(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, database_url: str
) -> None:
    client = await shop.client()
    async with (
        query_client(query_settings(TEST_DATA), database_url, DEAD_REDIS) as api,
        projected.running(),
    ):
        for n in range(5):
            changed = await command_api.put(f"/clients/{client}", json={"name": f"Ada {n}"})
            read = await api.get(f"/clients/{client}", headers=token_of(changed))
            assert (read.json()["name"], read.headers["x-read-source"]) == (f"Ada {n}", "postgres")


@pytest.mark.parametrize("token", ["garbage", "g1.12", "", "x" * 100, token_for(1)[:-2] + "!!"])
async def test_an_unparseable_token_is_a_422(token: str, query_api: httpx.AsyncClient) -> None:
    for path in ("/categories", "/categories/1"):
        response = await query_api.get(path, headers={TOKEN: token})
        assert response.status_code == 422, token
        body = response.json()
        assert body["code"] == "invalid_token"
        assert body["detail"][0]["loc"] == ["header", TOKEN]


async def test_a_token_from_another_resources_write_is_honoured_too(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    category = await shop.category()
    async with projected.running():
        for _ in range(3):
            client = await command_api.post("/clients", json={"name": "Ada"})
            read = await query_api.get(f"/categories/{category}", headers=token_of(client))
            assert read.status_code == 200
            reviews = await query_api.get("/reviews", headers=token_of(client))
            assert (reviews.status_code, reviews.json()) == (200, [])

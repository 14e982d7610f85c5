"""The original's concurrency test, over HTTP, and writes while Redis is away."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from command_api.app import create_app
from eventstore import EventStore
from orders.metrics import COMMAND_RETRIES
from orders.settings import Settings
from tests.shop import Shop

pytestmark = pytest.mark.integration


async def test_a_hundred_buyers_of_ten_units_sell_exactly_ten(
    shop: Shop, command_api: httpx.AsyncClient, database_url: str
) -> None:
    product = await shop.product(stock=10)
    orders = [await shop.order() for _ in range(100)]
    responses = await asyncio.gather(*(shop.line(order, product, 1) for order in orders))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [400] * 90
    assert await shop.stock(product) == 0
    async with await EventStore.open(database_url) as store:
        lines = [
            e
            for order in orders
            for e in await store.read_stream(f"order-{order}")
            if e.type == "OrderLineAdded"
        ]
    assert len(lines) == 10


async def test_sixty_four_buyers_of_one_product_queue_instead_of_conflicting(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    """In one process, commands on the same stream take turns: none is decided on a state
    another is changing, so none meets a version conflict, and all succeed while stock lasts."""
    product = await shop.product(stock=1000)
    orders = [await shop.order() for _ in range(64)]
    retries = COMMAND_RETRIES._value.get()

    responses = await asyncio.gather(*(shop.line(order, product, 1) for order in orders))

    assert [r.status_code for r in responses] == [201] * 64
    assert COMMAND_RETRIES._value.get() == retries
    assert await shop.stock(product) == 1000 - 64


async def test_concurrent_line_edits_on_one_order_never_lose_stock(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    products = [await shop.product(stock=50) for _ in range(3)]
    order = await shop.order()
    lines = [(await shop.line(order, p, 1)).json()["id_key"] for p in products]
    edits = [
        command_api.put(f"/order_details/{line}", json={"quantity": q})
        for q in (5, 2, 7)
        for line in lines
    ]
    responses = await asyncio.gather(*edits)
    assert all(r.status_code in {200, 409} for r in responses), [r.text for r in responses]
    documents = [await shop.current("/order_details", line) for line in lines]
    for product, document in zip(products, documents, strict=True):
        assert await shop.stock(product) + document["quantity"] == 50
    total = sum(d["quantity"] * d["price"] for d in documents)
    assert (await shop.current("/orders", order))["total"] == pytest.approx(total)


async def test_a_write_succeeds_while_redis_is_down(database_url: str, tmp_path: object) -> None:
    settings = Settings(RATE_LIMIT_ENABLED="false")
    dead_redis = "unix:///nonexistent/redis.sock"
    app = create_app(settings, database_url, dead_redis)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://commands") as api:
            response = await api.post("/categories", json={"name": "Offline"})
    assert response.status_code == 201
    async with await EventStore.open(database_url) as store:
        assert len(await store.read_stream(f"category-{response.json()['id_key']}")) == 1

"""The original API's HTTP scenarios, sent to the command API."""

from __future__ import annotations

import httpx
import pytest

from tests.shop import Shop

pytestmark = pytest.mark.integration


async def test_the_complete_order_flow(shop: Shop, command_api: httpx.AsyncClient) -> None:
    category = await shop.category("Electronics")
    product = await shop.product(stock=10, price=99.99, category=category)
    client = await shop.client()
    address = await shop.create(
        "/addresses", street="Main", number="1", city="Paris", client_id=client
    )
    assert address["client_id"] == client
    bill = await shop.bill(client, total=99.99)
    order = await shop.create("/orders", delivery_method=3, client_id=client, bill_id=bill)
    assert order["status"] == 1
    line = await shop.line(order["id_key"], product, 1)
    assert line.status_code == 201
    assert line.json()["price"] == 99.99, "the price is taken from the product"
    assert await shop.stock(product) == 9
    review = await shop.create(
        "/reviews", rating=5, comment="Excellent product!", product_id=product
    )
    assert review["rating"] == 5
    delivered = await command_api.put(f"/orders/{order['id_key']}", json={"status": 3})
    assert delivered.status_code == 200
    assert delivered.json()["status"] == 3
    assert delivered.json()["total"] == 99.99


async def test_a_three_product_order_reserves_each_product(shop: Shop) -> None:
    products = [await shop.product(stock=20) for _ in range(3)]
    order = await shop.order()
    for product in products:
        assert (await shop.line(order, product, 2)).status_code == 201
    assert [await shop.stock(p) for p in products] == [18, 18, 18]
    assert (await shop.current("/orders", order))["total"] == 60.0


async def test_stock_runs_out_across_two_orders(shop: Shop) -> None:
    product = await shop.product(stock=5)
    first, second = await shop.order(), await shop.order()
    assert (await shop.line(first, product, 3)).status_code == 201
    refused = await shop.line(second, product, 3)
    assert refused.status_code == 400
    assert refused.json()["detail"].endswith("Requested: 3, Available: 2")
    assert refused.json()["detail"].startswith("Insufficient stock for product")
    assert await shop.stock(product) == 2


async def test_a_deleted_line_restores_its_stock(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    product = await shop.product(stock=10)
    order = await shop.order()
    line = (await shop.line(order, product, 4)).json()
    assert await shop.stock(product) == 6
    assert (await command_api.delete(f"/order_details/{line['id_key']}")).status_code == 204
    assert await shop.stock(product) == 10
    assert (await shop.current("/orders", order))["total"] == 0.0


async def test_changing_a_line_quantity_reserves_or_releases_the_difference(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    product = await shop.product(stock=10)
    line = (await shop.line(await shop.order(), product, 2)).json()
    more = await command_api.put(f"/order_details/{line['id_key']}", json={"quantity": 5})
    assert (more.status_code, await shop.stock(product)) == (200, 5)
    too_many = await command_api.put(f"/order_details/{line['id_key']}", json={"quantity": 11})
    assert too_many.status_code == 400
    assert too_many.json()["detail"].endswith("Requested additional: 6, Available: 5")
    fewer = await command_api.put(f"/order_details/{line['id_key']}", json={"quantity": 1})
    assert (fewer.status_code, await shop.stock(product)) == (200, 9)


async def test_moving_a_line_to_another_product_releases_the_old_stock(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    old, new = await shop.product(stock=10, price=5), await shop.product(stock=10, price=5)
    line = (await shop.line(await shop.order(), old, 3)).json()
    moved = await command_api.put(f"/order_details/{line['id_key']}", json={"product_id": new})
    assert moved.status_code == 200, moved.text
    assert (await shop.stock(old), await shop.stock(new)) == (10, 7)


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        (
            "/products",
            {"name": "P", "price": 1, "category_id": 999},
            "Category with id 999 not found",
        ),
        (
            "/addresses",
            {"street": "S", "city": "C", "client_id": 999},
            "Client with id 999 not found",
        ),
        (
            "/bills",
            {
                "bill_number": "X",
                "date": "2026-01-01",
                "total": 1,
                "payment_type": 1,
                "client_id": 999,
            },
            "Client with id 999 not found",
        ),
        ("/reviews", {"rating": 3, "product_id": 999}, "Product with id 999 not found"),
        (
            "/order_details",
            {"quantity": 1, "order_id": 999, "product_id": 1},
            "Order with id 999 not found",
        ),
    ],
)
async def test_invalid_references_are_not_found(
    command_api: httpx.AsyncClient, path: str, body: dict[str, object], message: str
) -> None:
    response = await command_api.post(path, json=body)
    assert response.status_code == 404
    assert response.json()["detail"] == message
    assert response.json()["code"] == "not_found"


async def test_an_order_checks_its_client_first_then_its_bill(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    both_missing = {"delivery_method": 1, "client_id": 998, "bill_id": 999}
    response = await command_api.post("/orders", json=both_missing)
    assert (response.status_code, response.json()["detail"]) == (
        404,
        "Client with id 998 not found",
    )
    client = await shop.client()
    response = await command_api.post("/orders", json={**both_missing, "client_id": client})
    assert (response.status_code, response.json()["detail"]) == (404, "Bill with id 999 not found")


async def test_a_line_for_a_missing_product_is_not_found(shop: Shop) -> None:
    response = await shop.line(await shop.order(), 999, 1)
    assert (response.status_code, response.json()["detail"]) == (
        404,
        "Product with id 999 not found",
    )


async def test_a_price_off_by_more_than_a_cent_is_refused(shop: Shop) -> None:
    product = await shop.product(price=10.0)
    order = await shop.order()
    refused = await shop.line(order, product, 1, price=10.02)
    assert refused.status_code == 400
    assert refused.json()["detail"].startswith("Price mismatch. Expected 10")
    assert (await shop.line(order, product, 1, price=10.01)).status_code == 201

"""The Decisions of DOMAIN.md, over HTTP: statuses and what is (not) written."""

from __future__ import annotations

import httpx
import pytest

from tests.shop import Shop

pytestmark = pytest.mark.integration


async def test_collection_paths_work_with_and_without_a_trailing_slash(
    command_api: httpx.AsyncClient,
) -> None:
    assert (await command_api.post("/categories", json={"name": "A"})).status_code == 201
    assert (await command_api.post("/categories/", json={"name": "B"})).status_code == 201


async def test_a_duplicate_category_name_is_a_conflict(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    await shop.category("Books")
    response = await command_api.post("/categories", json={"name": "Books"})
    assert response.status_code == 409


async def test_a_duplicate_client_email_is_a_conflict_and_a_released_one_is_free(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    ada = await shop.create("/clients", name="Ada", email="ada@example.com")
    assert (
        await command_api.post("/clients", json={"email": "ADA@example.com"})
    ).status_code == 409
    moved = await command_api.put(f"/clients/{ada['id_key']}", json={"email": "ada@lovelace.org"})
    assert moved.status_code == 200
    assert (
        await command_api.post("/clients", json={"email": "ada@example.com"})
    ).status_code == 201


async def test_a_duplicate_bill_number_is_a_conflict(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    client = await shop.client()
    body = {
        "bill_number": "F-1",
        "date": "2026-01-01",
        "total": 10,
        "payment_type": 1,
        "client_id": client,
    }
    assert (await command_api.post("/bills", json=body)).status_code == 201
    assert (await command_api.post("/bills", json=body)).status_code == 409


async def test_a_category_with_active_products_cannot_be_deleted(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    category = await shop.category()
    product = await shop.product(category=category)
    assert (await command_api.delete(f"/categories/{category}")).status_code == 409
    assert (await command_api.delete(f"/products/{product}")).status_code == 204
    assert (await command_api.delete(f"/categories/{category}")).status_code == 204
    assert (await command_api.delete(f"/categories/{category}")).status_code == 404


async def test_a_deleted_product_is_deactivated_and_can_be_reactivated(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    product = await shop.product()
    assert (await command_api.delete(f"/products/{product}")).status_code == 204
    assert (await shop.current("/products", product))["active"] is False
    assert (await shop.line(await shop.order(), product, 1)).status_code == 409
    again = await command_api.put(f"/products/{product}", json={"active": True})
    assert (again.status_code, again.json()["active"]) == (200, True)
    assert (await shop.line(await shop.order(), product, 1)).status_code == 201


async def test_a_bill_discount_above_its_total_is_invalid(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    client = await shop.client()
    body = {
        "bill_number": "D-1", "date": "2026-01-01", "total": 10, "discount": 11,
        "payment_type": 1, "client_id": client,
    }  # fmt: skip
    response = await command_api.post("/bills", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "discount"]


async def test_an_order_needs_a_bill_of_its_own_client_that_backs_no_other_order(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    ada, bob = await shop.client(), await shop.client()
    bobs_bill = await shop.bill(bob)
    foreign = await command_api.post(
        "/orders", json={"delivery_method": 1, "client_id": ada, "bill_id": bobs_bill}
    )
    assert foreign.status_code == 409
    adas_bill = await shop.bill(ada)
    body = {"delivery_method": 1, "client_id": ada, "bill_id": adas_bill}
    assert (await command_api.post("/orders", json=body)).status_code == 201
    assert (await command_api.post("/orders", json=body)).status_code == 409


async def test_order_status_only_moves_forward(shop: Shop, command_api: httpx.AsyncClient) -> None:
    order = await shop.order()
    assert (await command_api.put(f"/orders/{order}", json={"status": 2})).status_code == 200
    assert (await command_api.put(f"/orders/{order}", json={"status": 1})).status_code == 409
    assert (await command_api.put(f"/orders/{order}", json={"status": 3})).status_code == 200
    assert (await command_api.put(f"/orders/{order}", json={"status": 4})).status_code == 409


async def test_a_delivered_order_cannot_be_cancelled_or_get_lines(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    product = await shop.product()
    order = await shop.order()
    assert (await command_api.put(f"/orders/{order}", json={"status": 3})).status_code == 200
    assert (await command_api.delete(f"/orders/{order}")).status_code == 409
    assert (await shop.line(order, product, 1)).status_code == 409


async def test_cancelling_an_order_releases_the_stock_of_every_line(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    first, second = await shop.product(stock=10), await shop.product(stock=10)
    order = await shop.order()
    await shop.line(order, first, 3)
    await shop.line(order, second, 4)
    cancelled = await command_api.put(f"/orders/{order}", json={"status": 4})
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, 4)
    assert (await shop.stock(first), await shop.stock(second)) == (10, 10)


async def test_deleting_an_open_order_cancels_it_and_releases_stock(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    product = await shop.product(stock=10)
    order = await shop.order()
    await shop.line(order, product, 6)
    assert (await command_api.delete(f"/orders/{order}")).status_code == 204
    assert await shop.stock(product) == 10
    assert (await command_api.put(f"/orders/{order}", json={})).status_code == 404


async def test_a_sent_total_is_accepted_and_ignored(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    client = await shop.client()
    bill = await shop.bill(client)
    body = {"delivery_method": 2, "client_id": client, "bill_id": bill, "total": 12345}
    response = await command_api.post("/orders", json=body)
    assert (response.status_code, response.json()["total"]) == (201, 0.0)


async def test_a_body_id_key_equal_to_the_path_is_ignored_and_a_different_one_is_invalid(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    category = await shop.category()
    same = await command_api.put(f"/categories/{category}", json={"id_key": category, "name": "X"})
    assert same.status_code == 200
    other = await command_api.put(
        f"/categories/{category}", json={"id_key": category + 1, "name": "Y"}
    )
    assert other.status_code == 422


async def test_put_changes_only_the_fields_sent(shop: Shop, command_api: httpx.AsyncClient) -> None:
    ada = await shop.create("/clients", name="Ada", lastname="Lovelace", email="a@b.co")
    changed = await command_api.put(f"/clients/{ada['id_key']}", json={"name": "Augusta"})
    assert changed.json() == {**ada, "name": "Augusta"}


async def test_deleting_a_client_removes_its_addresses(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    client = await shop.client()
    address = await shop.create("/addresses", street="S", city="C", client_id=client)
    assert (await command_api.delete(f"/clients/{client}")).status_code == 204
    assert (await command_api.put(f"/addresses/{address['id_key']}", json={})).status_code == 404
    bill = {
        "bill_number": "Z", "date": "2026-01-01", "total": 1, "payment_type": 1,
        "client_id": client,
    }  # fmt: skip
    assert (await command_api.post("/bills", json=bill)).status_code == 404


async def test_unknown_ids_are_not_found_for_every_resource(command_api: httpx.AsyncClient) -> None:
    for path in ("/categories", "/products", "/clients", "/addresses", "/bills", "/orders",
                 "/order_details", "/reviews"):  # fmt: skip
        assert (await command_api.put(f"{path}/424242", json={})).status_code == 404, path
        assert (await command_api.delete(f"{path}/424242")).status_code == 404, path

"""The query API's GET surface: every list, filter, page bound and 404, from Redis, byte for byte
what the command API rendered."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest

from tests.integration.query_world import RESOURCES, World, build_world, current
from tests.query import Projected
from tests.shop import Shop

pytestmark = pytest.mark.integration


@pytest.fixture
async def world(shop: Shop, command_api: httpx.AsyncClient, projected: Projected) -> World:
    built = await build_world(shop, command_api)
    await projected.catch_up()
    return built


def ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [doc["id_key"] for doc in response.json()]


async def test_every_document_is_the_command_api_rendering_byte_for_byte(
    world: World, command_api: httpx.AsyncClient, query_api: httpx.AsyncClient
) -> None:
    head = await query_api.get("/categories")
    for resource in RESOURCES:
        for id_key in world.ids[resource]:
            response = await query_api.get(f"/{resource}/{id_key}")
            assert response.status_code == 200
            assert response.content == await current(command_api, resource, id_key)
            assert response.headers["content-type"] == "application/json"
            assert response.headers["x-read-source"] == "redis"
            assert response.headers["etag"].startswith('"')
            position = response.headers["x-projection-position"]
            assert position == head.headers["x-projection-position"] != "0"


async def test_every_list_is_its_documents_in_id_order(
    world: World, command_api: httpx.AsyncClient, query_api: httpx.AsyncClient
) -> None:
    for resource in RESOURCES:
        hidden = {world.inactive_product} if resource == "products" else set()
        listed = sorted(set(world.ids[resource]) - hidden)
        documents = [await current(command_api, resource, i) for i in listed]
        response = await query_api.get(f"/{resource}")
        assert response.status_code == 200
        assert response.content == b"[" + b",".join(documents) + b"]", resource
        assert response.headers["x-read-source"] == "redis"
        assert int(response.headers["x-projection-position"]) > 0


async def test_collections_and_documents_answer_with_and_without_a_trailing_slash(
    world: World, query_api: httpx.AsyncClient
) -> None:
    for resource in RESOURCES:
        one = f"/{resource}/{world.ids[resource][0]}"
        for path in (f"/{resource}", one):
            plain, slashed = await query_api.get(path), await query_api.get(f"{path}/")
            assert plain.status_code == slashed.status_code == 200  # no redirect
            assert plain.content == slashed.content


async def test_filters_select_the_matching_documents(
    world: World, query_api: httpx.AsyncClient
) -> None:
    k1, k2, _ = world.category
    p1, p2, p3 = world.product
    c1, c2 = world.client
    o1, o2 = world.order
    lines, bills = world.ids["order_details"], world.ids["bills"]
    addresses, reviews = world.ids["addresses"], world.ids["reviews"]
    expected: dict[str, list[int]] = {
        f"/products?category_id={k1}": [p1],
        f"/products?category_id={k2}": [p2],
        "/products?include_inactive=true": [p1, p2, p3],
        "/products?include_inactive=false": [p1, p2],
        f"/products?category_id={k1}&include_inactive=true": [p1, p3],
        f"/orders?client_id={c1}": [o1],
        "/orders?status=1": [o1],
        "/orders?status=2": [o2],
        f"/orders?client_id={c2}&status=2": [o2],
        f"/orders?client_id={c1}&status=2": [],
        f"/order_details?order_id={o1}": lines[:2],
        f"/order_details?product_id={p1}": [lines[0], lines[2]],
        f"/order_details?order_id={o2}&product_id={p1}": [lines[2]],
        f"/addresses?client_id={c1}": addresses[:2],
        f"/addresses?client_id={c2}": addresses[2:],
        f"/bills?client_id={c1}": [bills[0], bills[2]],
        f"/reviews?product_id={p1}": reviews[:2],
        f"/reviews?product_id={p2}": reviews[2:],
        "/reviews?product_id=999": [],
    }
    for path, wanted in expected.items():
        assert ids(await query_api.get(path)) == wanted, path


async def test_an_inactive_product_is_hidden_from_lists_but_served_by_id(
    world: World, query_api: httpx.AsyncClient
) -> None:
    inactive = world.inactive_product
    assert inactive not in ids(await query_api.get("/products"))
    assert inactive in ids(await query_api.get("/products?include_inactive=true"))
    document = (await query_api.get(f"/products/{inactive}")).json()
    assert document["active"] is False


async def test_skip_and_limit_page_through_in_id_order(
    shop: Shop, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    created = [await shop.category(f"Shelf {n}") for n in range(12)]
    await projected.catch_up()
    assert ids(await query_api.get("/categories")) == created  # defaults: skip 0, limit 100
    pages = [ids(await query_api.get(f"/categories?skip={s}&limit=5")) for s in (0, 5, 10)]
    assert pages == [created[:5], created[5:10], created[10:]]
    assert ids(await query_api.get("/categories?skip=12")) == []
    assert ids(await query_api.get("/categories?limit=1000")) == created
    assert ids(await query_api.get("/categories?skip=3&limit=1")) == [created[3]]


@pytest.mark.parametrize(
    "query", ["skip=-1", "limit=0", "limit=1001", "limit=-5", "skip=x", "limit=1.5"]
)
async def test_out_of_range_paging_is_a_422(query: str, query_api: httpx.AsyncClient) -> None:
    for resource in RESOURCES:
        response = await query_api.get(f"/{resource}?{query}")
        assert response.status_code == 422, (resource, query)
        body = response.json()
        assert body["code"] == "validation_error"
        assert isinstance(body["detail"], list)
        assert body["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    "path", ["/orders?status=9", "/products?category_id=abc", "/reviews?product_id=0"]
)
async def test_a_malformed_filter_is_a_422(path: str, query_api: httpx.AsyncClient) -> None:
    assert (await query_api.get(path)).status_code == 422


async def test_an_unknown_id_is_a_404_in_the_error_shape(
    world: World, query_api: httpx.AsyncClient
) -> None:
    nouns = ["Category", "Product", "Client", "Address", "Bill", "Order", "OrderDetail", "Review"]
    for resource, noun in zip(RESOURCES, nouns, strict=True):
        response = await query_api.get(f"/{resource}/9999")
        assert response.status_code == 404
        body: dict[str, Any] = response.json()
        assert body == {
            "detail": f"{noun} with id 9999 not found",
            "code": "not_found",
            "request_id": response.headers["x-request-id"],
        }
        assert response.headers["x-read-source"] == "postgres"  # a Redis miss is checked there
        assert int(response.headers["x-projection-position"]) > 0
        for bad in ("abc", "0", "-3"):
            assert (await query_api.get(f"/{resource}/{bad}")).status_code == 422


async def test_an_etag_revalidates_with_a_304_until_the_document_changes(
    world: World,
    command_api: httpx.AsyncClient,
    projected: Projected,
    query_api: httpx.AsyncClient,
) -> None:
    path = f"/products/{world.product[0]}"
    first = await query_api.get(path)
    etag = first.headers["etag"]
    for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = await query_api.get(path, headers={"If-None-Match": if_none_match})
        assert again.status_code == 304, if_none_match
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["x-projection-position"] == first.headers["x-projection-position"]
    assert (await query_api.get(path, headers={"If-None-Match": '"other"'})).status_code == 200
    await command_api.put(path, json={"price": 3.0})
    await projected.catch_up()
    changed = await query_api.get(path, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert orjson.loads(changed.content)["price"] == 3.0


async def test_the_hot_path_and_the_routes_answer_alike(
    world: World, query_api: httpx.AsyncClient
) -> None:
    """An escaped parameter the routes ignore sends the same request past the hot path."""
    varying = {"x-request-id", "x-response-time"}
    request_id = {"X-Request-ID": "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"}
    for path in world.paths():
        routed_path = path + ("&" if "?" in path else "?") + "%5F=1"
        hot = await query_api.get(path, headers=request_id)
        routed = await query_api.get(routed_path, headers=request_id)
        assert (hot.status_code, hot.content) == (routed.status_code, routed.content), path
        assert {k: v for k, v in hot.headers.items() if k not in varying} == {
            k: v for k, v in routed.headers.items() if k not in varying
        }, path


async def test_concurrent_reads_each_get_their_own_answer(
    world: World, query_api: httpx.AsyncClient
) -> None:
    """Reads in flight together share Redis round trips; none may get another's answer."""
    paths = world.paths() * 3
    same_id = {"X-Request-ID": "7a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"}  # 404 bodies carry it
    alone = {path: (await query_api.get(path, headers=same_id)).content for path in set(paths)}
    together = await asyncio.gather(*(query_api.get(path, headers=same_id) for path in paths))
    for path, response in zip(paths, together, strict=True):
        assert response.content == alone[path], path
    assert {r.headers["x-read-source"] for r in together if r.status_code == 200} >= {"redis"}

"""HTTP-level behaviour of the command API: ETags, idempotency, bad input, event metadata."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from eventstore import EventStore
from tests.shop import Shop

pytestmark = pytest.mark.integration


async def events_in(database_url: str) -> int:
    async with await EventStore.open(database_url) as store, store.pool.connection() as conn:
        row = await (await conn.execute("SELECT count(*) FROM events")).fetchone()
    assert row is not None
    return int(row[0])


async def test_responses_carry_an_etag_a_location_and_a_consistency_token(
    command_api: httpx.AsyncClient,
) -> None:
    created = await command_api.post("/categories", json={"name": "Books"})
    assert created.headers["etag"] == '"1"'
    assert created.headers["location"] == f"/categories/{created.json()['id_key']}"
    assert created.headers["x-consistency-token"]
    changed = await command_api.put(f"/categories/{created.json()['id_key']}", json={"name": "B"})
    assert changed.headers["etag"] == '"2"'
    assert changed.headers["x-consistency-token"] != created.headers["x-consistency-token"]


async def test_a_stale_if_match_is_refused_and_writes_nothing(
    shop: Shop, command_api: httpx.AsyncClient, database_url: str
) -> None:
    category = await shop.category("Old")
    await command_api.put(f"/categories/{category}", json={"name": "New"})
    before = await events_in(database_url)
    stale = await command_api.put(
        f"/categories/{category}", json={"name": "Lost"}, headers={"If-Match": '"1"'}
    )
    assert (stale.status_code, stale.json()["code"]) == (412, "precondition_failed")
    assert await events_in(database_url) == before
    fresh = await command_api.put(
        f"/categories/{category}", json={"name": "Kept"}, headers={"If-Match": '"2"'}
    )
    assert fresh.status_code == 200
    gone = await command_api.delete(f"/categories/{category}", headers={"If-Match": '"2"'})
    assert gone.status_code == 412


async def test_a_retried_idempotency_key_returns_the_first_response_and_writes_nothing(
    command_api: httpx.AsyncClient, database_url: str
) -> None:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    first = await command_api.post("/clients", json={"name": "Ada"}, headers=headers)
    written = await events_in(database_url)
    again = await command_api.post("/clients", json={"name": "Ada"}, headers=headers)
    assert again.status_code == first.status_code == 201
    assert again.content == first.content
    for header in ("etag", "location", "x-consistency-token"):
        assert again.headers[header] == first.headers[header]
    assert again.headers["idempotent-replayed"] == "true"
    assert await events_in(database_url) == written


async def test_an_idempotency_key_with_another_body_is_refused(
    command_api: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "key-1"}
    assert (
        await command_api.post("/clients", json={"name": "A"}, headers=headers)
    ).status_code == 201
    reused = await command_api.post("/clients", json={"name": "B"}, headers=headers)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")


async def test_concurrent_retries_of_one_key_create_one_entity(
    command_api: httpx.AsyncClient, database_url: str
) -> None:
    headers = {"Idempotency-Key": "concurrent-1"}
    responses = await asyncio.gather(
        *(
            command_api.post("/categories", json={"name": "Once"}, headers=headers)
            for _ in range(12)
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    assert await events_in(database_url) == 1


async def test_a_retried_line_gets_its_first_answer_even_when_stock_is_gone(shop: Shop) -> None:
    product = await shop.product(stock=1)
    order = await shop.order()
    body = {"order_id": order, "product_id": product, "quantity": 1}
    headers = {"Idempotency-Key": "line-1"}
    first = await shop.api.post("/order_details", json=body, headers=headers)
    again = await shop.api.post("/order_details", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert await shop.stock(product) == 0


async def test_concurrent_creates_of_one_unique_name_let_exactly_one_win(
    command_api: httpx.AsyncClient,
) -> None:
    responses = await asyncio.gather(
        *(command_api.post("/categories", json={"name": "Unique"}) for _ in range(10))
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 9


async def test_events_record_the_request_id_and_the_command(
    command_api: httpx.AsyncClient, database_url: str
) -> None:
    response = await command_api.post(
        "/categories", json={"name": "Traced"}, headers={"X-Request-ID": "req-123"}
    )
    assert response.headers["x-request-id"] == "req-123"
    async with await EventStore.open(database_url) as store:
        (event,) = await store.read_stream(f"category-{response.json()['id_key']}")
    assert event.metadata["request_id"] == "req-123"
    assert event.metadata["command"] == "CreateCategory"
    assert event.metadata["correlation_id"] == "req-123"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"name": 5}', "application/json"),
        (b'{"name": ""}', "application/json"),
        (b'{"name": "x", "price": "cheap", "category_id": 1}', "application/json"),
        (b'{"name": "x", "price": 1e400, "category_id": 1}', "application/json"),
        (b'{"name": "x", "price": 1, "category_id": 99999999999999999999999}', "application/json"),
        (b'{"name": "x", "price": -1, "category_id": 1}', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"name=x", "application/x-www-form-urlencoded"),
    ],
)
async def test_malformed_bodies_are_unprocessable(
    command_api: httpx.AsyncClient, body: bytes, content_type: str
) -> None:
    response = await command_api.post(
        "/products", content=body, headers={"content-type": content_type}
    )
    assert response.status_code == 422, response.text
    assert "detail" in response.json()
    assert response.json()["code"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/orders", {"delivery_method": 9, "client_id": 1, "bill_id": 1}),
        ("/orders", {"delivery_method": 1, "status": 0, "client_id": 1, "bill_id": 1}),
        (
            "/bills",
            {
                "bill_number": "x",
                "date": "2026-01-01",
                "total": 1,
                "payment_type": 6,
                "client_id": 1,
            },
        ),
        (
            "/bills",
            {
                "bill_number": "x",
                "date": "not a date",
                "total": 1,
                "payment_type": 1,
                "client_id": 1,
            },
        ),
        ("/clients", {"telephone": "12"}),
        ("/clients", {"email": "x" * 300}),
        ("/reviews", {"rating": 5.5, "product_id": 1}),
        ("/reviews", {"rating": 3, "comment": "short", "product_id": 1}),
        ("/order_details", {"quantity": 0, "order_id": 1, "product_id": 1}),
    ],
)
async def test_out_of_range_fields_are_unprocessable(
    command_api: httpx.AsyncClient, path: str, body: dict[str, object]
) -> None:
    response = await command_api.post(path, json=body)
    assert response.status_code == 422, response.text


async def test_an_oversized_body_is_refused_with_413(command_api: httpx.AsyncClient) -> None:
    response = await command_api.post("/clients", json={"name": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413


async def test_sql_and_control_characters_are_stored_verbatim(
    command_api: httpx.AsyncClient,
) -> None:
    name = "Robert'); DROP TABLE events;--\t\x1b[31m\u202e"
    response = await command_api.post("/categories", json={"name": name})
    assert (response.status_code, response.json()["name"]) == (201, name)


async def test_a_nul_character_is_refused_not_a_server_error(
    command_api: httpx.AsyncClient,
) -> None:
    response = await command_api.post("/categories", json={"name": "a\u0000b"})
    assert response.status_code == 422


@pytest.mark.parametrize("request_id", [b"x" * 5000, b"bad\x7fid", b"   ", "ünïcode".encode()])
async def test_odd_request_ids_are_replaced_not_fatal(
    command_api: httpx.AsyncClient, request_id: bytes
) -> None:
    response = await command_api.post(
        "/categories", json={"name": f"R {request_id[:3]!r}"}, headers={"X-Request-ID": request_id}
    )
    assert response.status_code == 201
    assert response.headers["x-request-id"].encode() != request_id
    assert len(response.headers["x-request-id"]) <= 128


@pytest.mark.parametrize(
    ("header", "value"), [("If-Match", "garbage"), ("Idempotency-Key", "x" * 300)]
)
async def test_malformed_concurrency_headers_are_refused(
    shop: Shop, command_api: httpx.AsyncClient, header: str, value: str
) -> None:
    category = await shop.category()
    response = await command_api.put(
        f"/categories/{category}", json={"name": "Z"}, headers={header: value}
    )
    assert response.status_code == 422


async def test_the_openapi_document_describes_every_write(command_api: httpx.AsyncClient) -> None:
    spec = (await command_api.get("/openapi.json")).json()
    for name in ("categories", "products", "clients", "addresses", "bills", "orders",
                 "order_details", "reviews"):  # fmt: skip
        post = spec["paths"][f"/{name}"]["post"]
        assert {"201", "404", "409", "422", "503"} <= set(post["responses"])
        assert "requestBody" in post
        assert "delete" in spec["paths"][f"/{name}/{{id_key}}"]
    assert (await command_api.get("/docs")).status_code == 200
    assert (await command_api.get("/redoc")).status_code == 200


async def test_metrics_count_appends_conflicts_replays_and_time_requests_by_route(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    def sample(text: str, prefix: str) -> float:
        return sum(
            float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix)
        )

    before = (await command_api.get("/metrics")).text
    product = await shop.product(stock=100)
    order = await shop.order()
    await asyncio.gather(*(shop.line(order, product, 1) for _ in range(8)))
    key = {"Idempotency-Key": "metrics-1"}
    for _ in range(2):
        await command_api.post("/categories", json={"name": "Metered"}, headers=key)
    await shop.stock(product)  # a PUT /products/{id}: timed under its route template
    after = (await command_api.get("/metrics")).text
    assert 'method="PUT",route="/products/{id_key}"' in after
    appended = 'orders_appends_total{outcome="ok"}'
    assert sample(after, appended) - sample(before, appended) >= 8 + 5
    assert sample(after, "orders_idempotent_replays_total") > sample(
        before, "orders_idempotent_replays_total"
    )
    conflicts = 'orders_appends_total{outcome="version_conflict"}'
    retries = "orders_command_retries_total"
    assert sample(after, retries) - sample(before, retries) == sample(after, conflicts) - sample(
        before, conflicts
    )
    assert 'route="/order_details",service="command-api",status="201"' in after
    assert f'route="/products/{product}"' not in after

"""The command API's hot path answers every write exactly as its FastAPI route would: the same
story is told twice, on two databases, once to the app and once to the same app without its hot
path, and the answers must be the same bytes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from command_api.app import create_app
from command_api.hotpath import CommandHotPath
from orders.embedded import Endpoints
from orders.settings import Settings
from tests.conftest import TEST_DATA

pytestmark = pytest.mark.integration

REQUEST_ID = {"X-Request-ID": "5b1f0c2e-3d4a-4b6c-8e9f-0a1b2c3d4e5f"}
VARYING = {"x-request-id", "x-response-time"}
ORDER_DATE = "2026-01-02T03:04:05+00:00"

# (method, path, body, headers): every kind of answer a write can get
# fmt: off
STORY: list[tuple[str, str, Any, dict[str, str]]] = [
    ("POST", "/categories", {"name": "Books"}, {}),
    ("POST", "/categories", {"name": " books "}, {}),  # 409: the name is taken
    ("POST", "/products", {"name": "Dune", "price": 9.5, "stock": 2, "category_id": 1}, {}),
    ("POST", "/products", {"name": "Nope", "price": 1, "category_id": 99}, {}),  # 404
    ("POST", "/clients", {"name": "Ada", "email": "ada@example.com"}, {}),
    (
        "POST",
        "/bills",
        {"bill_number": "B1", "date": "2026-01-01", "total": 50, "payment_type": 2, "client_id": 1},
        {},
    ),
    (
        "POST",
        "/orders",
        {"delivery_method": 3, "client_id": 1, "bill_id": 1, "date": ORDER_DATE},
        {},
    ),
    ("POST", "/order_details", {"order_id": 1, "product_id": 1, "quantity": 5}, {}),  # 400
    ("POST", "/order_details", {"order_id": 1, "product_id": 1, "quantity": 1}, {}),
    ("PUT", "/order_details/1", {"quantity": 2}, {}),
    ("PUT", "/products/1", {"price": 12}, {"If-Match": '"1"'}),  # 412: it moved since
    ("PUT", "/products/1", {"price": 12}, {"If-Match": "garbage"}),  # 422: bad header
    ("PUT", "/clients/1", {"id_key": 2, "name": "Grace"}, {}),  # 422: the domain's own
    ("POST", "/clients", {"email": "k@example.com"}, {"Idempotency-Key": "k1"}),
    ("POST", "/clients", {"email": "k@example.com"}, {"Idempotency-Key": "k1"}),  # replayed
    ("POST", "/clients", {"email": "other@example.com"}, {"Idempotency-Key": "k1"}),  # 422
    ("POST", "/clients", {"email": "e@example.com"}, {"Idempotency-Key": "\x7f"}),  # 422
    ("DELETE", "/categories/1", None, {}),  # 409: it has an active product
    ("DELETE", "/products/999", None, {}),  # 404
    ("PUT", "/orders/1", {"status": 3}, {}),
    ("DELETE", "/order_details/1", None, {}),  # 409: the order is final
    ("POST", "/reviews", {"rating": 5, "comment": "too short", "product_id": 1}, {}),  # 422
    ("POST", "/categories", [1, 2], {}),  # 422: not an object
    ("PUT", "/products/0", {"price": 1}, {}),  # 422: no such id
    ("DELETE", "/clients/1", None, {}),
]
# fmt: on


@asynccontextmanager
async def _api(
    database_url: str, redis_url: str, *, hot_path: bool
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(RATE_LIMIT_ENABLED="false", ORDERS_DATA_DIR=str(TEST_DATA))
    app = create_app(settings, database_url, redis_url)
    if not hot_path:  # before the first request builds the middleware stack
        app.user_middleware = [m for m in app.user_middleware if m.cls is not CommandHotPath]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://commands") as api:
            api.app = app  # type: ignore[attr-defined]
            yield api


async def _tell(api: httpx.AsyncClient) -> list[httpx.Response]:
    return [
        await api.request(method, path, json=body, headers={**REQUEST_ID, **headers})
        for method, path, body, headers in STORY
    ]


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k not in VARYING}


async def test_the_hot_path_and_the_routes_answer_every_write_alike(
    fresh_database: Callable[[], str], servers: Endpoints
) -> None:
    async with _api(fresh_database(), servers.redis_url, hot_path=True) as hot_api:
        hot = await _tell(hot_api)
        answered = hot_api.app.state.hot_path.answered  # type: ignore[attr-defined]
    async with _api(fresh_database(), servers.redis_url, hot_path=False) as routed_api:
        routed = await _tell(routed_api)
        bypassed = routed_api.app.state.hot_path.answered  # type: ignore[attr-defined]

    for (method, path, _, _), h, r in zip(STORY, hot, routed, strict=True):
        assert (h.status_code, h.content) == (r.status_code, r.content), (method, path)
        assert _headers(h) == _headers(r), (method, path)
    assert {h.status_code for h in hot} >= {200, 201, 204, 400, 404, 409, 412, 422}
    assert answered >= len(STORY) - 4  # all but the bodies only FastAPI may judge
    assert bypassed == 0

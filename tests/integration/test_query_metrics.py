"""`/metrics` on the query API: requests timed under their route template, those the hot path
answers before routing included, and the projections' lag."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Scope

from query_api.app import create_app
from tests.conftest import TEST_DATA
from tests.query import Projected, query_settings
from tests.shop import Shop

pytestmark = pytest.mark.integration

COUNT = "orders_http_request_duration_seconds_count"


def samples(text: str) -> dict[str, float]:
    """`name{labels}` -> value, labels in the order prometheus_client writes them (sorted)."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            found[name] = float(value)
    return found


def requests(route: str, status: int, method: str = "GET") -> str:
    labels = f'method="{method}",route="{route}",service="query-api",status="{status}"'
    return f"{COUNT}{{{labels}}}"


async def scrape(api: httpx.AsyncClient) -> dict[str, float]:
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def grew(before: dict[str, float], after: dict[str, float], series: str) -> float:
    return after.get(series, 0.0) - before.get(series, 0.0)


async def test_requests_are_counted_under_their_route_template_and_status(
    shop: Shop, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    product = await shop.product()
    token = (await shop.api.put(f"/products/{product}", json={"price": 3.0})).headers[
        "x-consistency-token"
    ]
    await projected.catch_up()
    before = await scrape(query_api)

    for path in [f"/products/{product}"] * 3 + [f"/products/{product}/"]:  # the hot path
        assert (await query_api.get(path)).status_code == 200
    for _ in range(2):
        assert (await query_api.get("/products/999999")).status_code == 404
    assert (await query_api.get("/products?limit=5")).status_code == 200
    routed = await query_api.get(f"/products/{product}", headers={"X-Consistency-Token": token})
    assert routed.status_code == 200  # a token: FastAPI's route, not the hot path
    assert (await query_api.get("/products/abc")).status_code == 422
    assert (await query_api.get("/no/such/path")).status_code == 404

    after = await scrape(query_api)
    assert grew(before, after, requests("/products/{id_key}", 200)) == 5
    assert grew(before, after, requests("/products/{id_key}", 404)) == 2
    assert grew(before, after, requests("/products/{id_key}", 422)) == 1
    assert grew(before, after, requests("/products", 200)) == 1
    assert grew(before, after, requests("unmatched", 404)) == 1
    assert not [name for name in after if f'route="/products/{product}' in name]
    bucket = requests("/products/{id_key}", 200).replace("_count{", '_bucket{le="+Inf",')
    assert grew(before, after, bucket) == 5


async def test_the_hot_path_names_the_route_it_answers_for(
    shop: Shop, projected: Projected, database_url: str
) -> None:
    """As the router would: a request answered before routing still says which route it was."""
    product = await shop.product()
    await projected.catch_up()
    app = create_app(query_settings(TEST_DATA), database_url, projected.redis_url)
    async with app.router.lifespan_context(app):
        scope, status = await _call(app, f"/products/{product}")
    assert status == 200
    assert scope["route"].path == "/products/{id_key}"
    assert "endpoint" not in scope  # the router never saw it


async def test_the_lag_gauges_follow_the_feed_head_minus_each_checkpoint(
    shop: Shop, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    await shop.category()
    applied = await projected.catch_up()
    await shop.product()
    await shop.product()
    await projected.store.sequence()
    head = (await projected.store.feed_status()).head

    behind = await scrape(query_api)
    await projected.catch_up()
    caught_up = await scrape(query_api)

    lag = 'orders_projection_lag_events{projection="products"}'
    assert head > applied
    assert behind[lag] == head - applied
    assert behind['orders_projection_lag_seconds{projection="products"}'] > 0
    assert caught_up[lag] == 0
    assert caught_up['orders_projection_lag_seconds{projection="products"}'] == 0
    names = {"categories", "products", "clients", "bills", "orders", "reviews"}
    gauges = {re.sub(r'.*projection="(\w+)".*', r"\1", s) for s in caught_up
              if s.startswith("orders_projection_lag_events{")}  # fmt: skip
    assert gauges == names


async def _call(app: FastAPI, path: str) -> tuple[Scope, int]:
    """One GET through the whole ASGI app; the scope as the app left it, and the status."""
    scope: Scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": [(b"host", b"queries")], "client": ("127.0.0.1", 5001),
        "server": ("queries", 80), "state": {},
    }  # fmt: skip
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return scope, next(m["status"] for m in sent if m["type"] == "http.response.start")

"""The shared layer behind a real uvicorn on a real socket: what ASGITransport cannot show
(the peer address uvicorn reports, chunked uploads, the lifespan run by the server)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from orders.embedded import Endpoints
from orders.web import MAX_BODY_BYTES
from tests.integration.web_demo import demo_app, demo_settings
from tests.served import served

pytestmark = pytest.mark.integration

CALLS = 5


@pytest.fixture
async def http(servers: Endpoints) -> AsyncIterator[httpx.AsyncClient]:
    app = demo_app(demo_settings(RATE_LIMIT_CALLS=CALLS), redis_url=servers.redis_url)
    async with served(app) as base_url, httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        yield client


async def test_over_http_a_request_gets_an_id_and_a_time(http: httpx.AsyncClient) -> None:
    echoed = await http.get("/things/1", headers={"X-Request-ID": "over-the-wire"})
    replaced = await http.get("/things/1", headers={"X-Request-ID": "z" * 500})
    assert echoed.headers["x-request-id"] == "over-the-wire"
    assert echoed.json()["request_id"] == "over-the-wire"
    assert len(replaced.headers["x-request-id"]) == 36
    assert re.fullmatch(r"\d+\.\d{2}ms", echoed.headers["x-response-time"])


async def test_over_http_a_chunked_upload_over_the_limit_is_a_413(
    http: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 65536 + 2):
            yield b"y" * 65536

    response = await http.post("/raw", content=chunks())
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_over_http_forged_forwarded_for_does_not_escape_the_limit(
    http: httpx.AsyncClient,
) -> None:
    statuses = []
    for n in range(CALLS + 2):
        forged = {"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"}
        statuses.append((await http.get("/things/1", headers=forged)).status_code)
    assert statuses == [200] * CALLS + [429, 429]


async def test_over_http_an_internal_error_is_a_500_with_an_error_id(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/boom")
    assert response.status_code == 500
    assert re.fullmatch(r"[0-9a-f]{8}", response.json()["error_id"])
    assert "hunter2" not in response.text

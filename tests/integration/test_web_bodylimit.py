"""Bodies over 1 MiB are refused with 413 in the error shape, declared or streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from orders.embedded import Endpoints
from orders.web import MAX_BODY_BYTES
from tests.integration.web_demo import demo_app, demo_settings, serving

pytestmark = pytest.mark.integration


@pytest.fixture
async def http(servers: Endpoints) -> AsyncIterator[httpx.AsyncClient]:
    app = demo_app(demo_settings(), redis_url=servers.redis_url)
    async with serving(app) as client:
        yield client


async def chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        chunk = b"x" * min(size, total - sent)
        sent += len(chunk)
        yield chunk


def assert_413(response: httpx.Response) -> None:
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "payload_too_large"
    assert body["request_id"] == response.headers["x-request-id"]
    assert str(MAX_BODY_BYTES) in body["detail"]


async def test_a_declared_body_over_one_mebibyte_is_a_413(http: httpx.AsyncClient) -> None:
    body = b'{"name": "' + b"x" * MAX_BODY_BYTES + b'", "price": 1}'
    response = await http.post("/items", content=body, headers={"Content-Type": "application/json"})
    assert_413(response)


async def test_a_streamed_body_over_one_mebibyte_is_a_413(http: httpx.AsyncClient) -> None:
    response = await http.post("/raw", content=chunks(MAX_BODY_BYTES + 1))
    assert "content-length" not in response.request.headers  # really streamed, undeclared
    assert_413(response)


async def test_a_streamed_json_body_over_the_limit_is_a_413_not_a_400(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/items",
        content=chunks(MAX_BODY_BYTES + 10),
        headers={"Content-Type": "application/json"},
    )
    assert_413(response)


async def test_a_body_of_exactly_one_mebibyte_is_accepted(http: httpx.AsyncClient) -> None:
    response = await http.post("/raw", content=chunks(MAX_BODY_BYTES))
    assert response.status_code == 200
    assert response.json() == {"size": MAX_BODY_BYTES}


async def test_a_lying_content_length_is_a_400(http: httpx.AsyncClient) -> None:
    response = await http.post("/raw", content=b"abc", headers={"Content-Length": "three"})
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"

"""Requests over the limits, over the wire (uvicorn as `orders command-api` runs it, with its
default HTTP parser): bodies over 1 MiB are a 413 on every write, declared or streamed; headers
over the limit (uvicorn's httptools parser has none) a 4xx or a closed connection, and never a
write."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from command_api.app import create_app
from orders.embedded import Endpoints
from orders.settings import Settings
from tests.conftest import TEST_DATA
from tests.integration.test_security_input import events_in
from tests.served import served

pytestmark = pytest.mark.integration


@pytest.fixture
async def wire(database_url: str, servers: Endpoints) -> AsyncIterator[httpx.AsyncClient]:
    """The command API behind uvicorn as `orders command-api` runs it (httptools)."""
    settings = Settings(RATE_LIMIT_ENABLED="false", ORDERS_DATA_DIR=str(TEST_DATA))
    app = create_app(settings, database_url, servers.redis_url)
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


RESOURCES = ["categories", "products", "clients", "addresses", "bills", "orders",
             "order_details", "reviews"]  # fmt: skip


async def test_an_oversized_body_is_a_413_on_every_write(wire: httpx.AsyncClient) -> None:
    big = orjson.dumps({"name": "x" * (1024 * 1024), "comment": "y"})

    async def streamed() -> AsyncIterator[bytes]:
        for offset in range(0, len(big), 65536):
            yield big[offset : offset + 65536]

    json = {"content-type": "application/json"}
    for resource in RESOURCES:
        for method, path in (("POST", f"/{resource}"), ("PUT", f"/{resource}/1")):
            declared = await wire.request(method, path, content=big, headers=json)
            assert declared.status_code == 413, (method, path, declared.text)
            assert declared.json()["code"] == "payload_too_large"
            chunked = await wire.request(method, path, content=streamed(), headers=json)
            assert chunked.status_code == 413, (method, path, chunked.text)


@pytest.mark.parametrize(
    "headers",
    [
        [("X-Big", "a" * 64 * 1024)],
        [("X-Big", "a" * 4 * 1024 * 1024)],
        [(f"X-Many-{n}", "v" * 64) for n in range(2000)],
        [("Idempotency-Key", "k" * 100_000)],
    ],
    ids=["64KiB", "4MiB", "2000-headers", "huge-idempotency-key"],
)
async def test_oversized_headers_are_refused_with_a_4xx_or_the_connection(
    wire: httpx.AsyncClient, database_url: str, headers: list[tuple[str, str]]
) -> None:
    try:
        response = await wire.post("/categories", json={"name": "Big headers"}, headers=headers)
    except httpx.TransportError:
        return  # the server closed the connection: refused
    assert 400 <= response.status_code < 500, response.status_code
    assert await events_in(database_url) == 0  # and nothing was written

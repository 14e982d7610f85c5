"""A tiny API built with `orders.web.build_app`, for the shared HTTP layer's tests: a mapped
domain-like error, an unhandled one, a validated body, a raw streamed body."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
from fastapi import FastAPI, Request
from psycopg_pool import AsyncConnectionPool
from pydantic import BaseModel, Field

from orders.logs import build_handler
from orders.redis_client import open_redis
from orders.settings import Settings
from orders.web import (
    Backends,
    ErrorRule,
    ExtraCheck,
    RequestId,
    build_app,
    error_responses,
)

DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_DATABASE = "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=1"
SECRET_FAILURE = (
    "connect failed: password=hunter2 token=abc.def api_key=sk-123 "
    "card 4111 1111 1111 1111 ssn 123-45-6789 Authorization: Bearer eyJhbGciOi.payload"
)


class ThingNotFoundError(Exception):
    code = "not_found"


class StockRuleError(Exception):
    code = "insufficient_stock"


class BackendDownError(Exception):
    pass


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price: float = Field(gt=0)


def demo_settings(**values: Any) -> Settings:
    """Settings with every value these tests depend on given explicitly (no .env, no env)."""
    defaults: dict[str, Any] = {
        "RATE_LIMIT_ENABLED": True,
        "RATE_LIMIT_CALLS": 100,
        "RATE_LIMIT_PERIOD": 60,
        "ORDERS_TRUSTED_PROXIES": "",
        "CORS_ORIGINS": "*",
    }
    return Settings(_env_file=None, **{**defaults, **values})  # type: ignore[call-arg]


def demo_app(
    settings: Settings,
    *,
    redis_url: str,
    database_url: str | None = None,
    pool_size: int = 4,
    health_checks: Sequence[ExtraCheck] = (),
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[Backends]:
        redis = open_redis(redis_url)
        pool = None
        if database_url is not None:
            pool = AsyncConnectionPool(
                database_url, min_size=1, max_size=pool_size, open=False, timeout=1.0
            )
            await pool.open(wait=False)
        try:
            yield Backends(db_pool=pool, redis=redis)
        finally:
            await redis.aclose()
            if pool is not None:
                await pool.close()

    app = build_app(
        "demo",
        settings,
        lifespan=lifespan,
        errors={
            ThingNotFoundError: 404,
            StockRuleError: 400,
            BackendDownError: ErrorRule(
                503, "store_unavailable", "Service unavailable.", {"Retry-After": "1"}
            ),
        },
        health_checks=health_checks,
        health_timeout=1.0,
        rate_limit_prefix=f"test:ratelimit:{uuid.uuid4().hex}:",
    )
    add_demo_routes(app)
    return app


def add_demo_routes(app: FastAPI) -> None:
    @app.get("/things/{thing_id}", responses=error_responses(404, 429, 500))
    async def read_thing(thing_id: int, request_id: RequestId, request: Request) -> dict[str, Any]:
        if thing_id == 0:
            raise ThingNotFoundError(f"Thing with id {thing_id} not found")
        return {"id": thing_id, "request_id": request_id, "state": request.state.request_id}

    @app.get("/rule")
    async def break_rule() -> None:
        raise StockRuleError("Insufficient stock for product 7. Requested: 3, Available: 1")

    @app.get("/down")
    async def backend_down() -> None:
        raise BackendDownError("database unavailable: host=10.0.0.5 password=hunter2")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(SECRET_FAILURE)

    @app.post("/items", status_code=201, responses=error_responses(413, 422))
    async def create_item(item: Item) -> Item:
        return item

    @app.post("/raw")
    async def count_bytes(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}


@asynccontextmanager
async def serving(
    app: FastAPI, client: tuple[str, int] = ("192.0.2.10", 50000)
) -> AsyncIterator[httpx.AsyncClient]:
    """The app's lifespan running, and an HTTP client talking to it as `client`."""
    transport = httpx.ASGITransport(app=app, client=client)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://demo") as http,
    ):
        yield http


def client_as(app: FastAPI, address: str) -> httpx.AsyncClient:
    """Another client of an app already serving (its lifespan entered), from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://demo")


@contextmanager
def captured_logs(level: int = logging.INFO, log_format: str = "text") -> Iterator[io.StringIO]:
    """Lines as the platform's handler writes them (redacted, with request ids)."""
    stream = io.StringIO()
    handler = build_handler("test", stream, log_format)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(level)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)

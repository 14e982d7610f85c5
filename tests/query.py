"""The query API for tests: the app over ASGI with its lifespan run, a Redis database of its own,
and the read models filled by the real projector (`projector.live.follow`: sequence the feed,
catch every projection up), on demand or in the background."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from redis.asyncio import Redis

from eventstore import EventStore
from orders.redis_client import AnyRedis
from orders.settings import Settings
from projector import live
from projector.engine import Engine, open_engine
from query_api.app import create_app
from tests.keys import MASTER

AUDIT_TOKEN = "auditor-token-for-tests"
AUDIT = {"Authorization": f"Bearer {AUDIT_TOKEN}"}
QUERY_REDIS_DB = 11  # the read models' own Redis database, flushed before each test
DEAD_REDIS = "redis://127.0.0.1:1/0"


def with_redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = "&".join([q for q in parts.query.split("&") if q and not q.startswith("db=")])
        # spelled out: urlunsplit would drop the empty host ("unix:/path"), which redis-py's
        # blocking client (RQ's) refuses
        return f"unix://{parts.path}?{query + '&' if query else ''}db={db}"
    return urlunsplit(parts._replace(path=f"/{db}"))


async def flushed(url: str) -> str:
    """`url`, its Redis database emptied first."""
    redis = Redis.from_url(url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()
    return url


def query_settings(data_dir: Path, **values: Any) -> Settings:
    defaults: dict[str, Any] = {
        "RATE_LIMIT_ENABLED": "false",
        "ORDERS_DATA_DIR": str(data_dir),
        "ORDERS_AUDIT_TOKEN": AUDIT_TOKEN,
        "ORDERS_CONSISTENCY_WAIT": 2.0,
    }
    return Settings(**{**defaults, **values})


@asynccontextmanager
async def query_client(
    settings: Settings, database_url: str, redis_url: str, queue_url: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database_url, redis_url, queue_url=queue_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5001))
        async with httpx.AsyncClient(transport=transport, base_url="http://queries") as client:
            yield client


@dataclass(frozen=True, slots=True)
class Projected:
    """The test's read models and the projector that fills them."""

    engine: Engine
    redis: AnyRedis  # the read models' Redis database, for tests that tamper with it
    redis_url: str
    database_url: str
    queue_url: str | None = None  # the queue's Redis, when not the read models' (a cluster's)

    @property
    def store(self) -> EventStore:
        return self.engine.store

    async def catch_up(self) -> int:
        """Sequence the feed and project it all, to PostgreSQL and Redis; the feed head."""
        await live.follow(self.engine)
        return (await self.store.feed_status()).head

    async def catch_up_postgresql_only(self) -> int:
        """As a projector that cannot reach Redis: PostgreSQL moves on, Redis stays behind."""
        engine = await open_engine(
            self.database_url, None, master=MASTER, application_name="test-projector"
        )
        try:
            await live.follow(engine)
        finally:
            await engine.close()
        return (await self.store.feed_status()).head

    @asynccontextmanager
    async def running(self, pause: float = 0.01) -> AsyncIterator[None]:
        """A projector catching up in the background for the duration of the block. It is
        stopped between runs, never cancelled inside one (as a worker shuts down; and Python
        3.11's `wait_for`, under the pool, can swallow a cancellation)."""
        stop = asyncio.Event()

        async def loop() -> None:
            while not stop.is_set():
                await live.follow(self.engine)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(pause):
                        await stop.wait()

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            stop.set()
            await task

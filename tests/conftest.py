"""Real servers for the suite: the configured ones (DATABASE_URL / REDIS_URL) or embedded ones in
`.data/test`. Every test that needs the database gets a fresh one, cloned from a migrated template,
because the event store's tables refuse the DELETE/TRUNCATE that other suites use to clean up."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from redis.asyncio import Redis

import migrations
from command_api.app import create_app
from eventstore import EventStore
from orders.embedded import Endpoints, ensure_servers, stop_postgres, stop_redis
from orders.rediscluster import LocalCluster, start_cluster
from orders.settings import Settings
from projector.engine import Engine, open_engine
from tests.keys import MASTER
from tests.projection import PROJECTOR_REDIS_DB
from tests.projection import with_redis_db as with_projector_db
from tests.query import (
    QUERY_REDIS_DB,
    Projected,
    flushed,
    query_client,
    query_settings,
    with_redis_db,
)
from tests.shop import Shop

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = f"orders_template_{os.getpid()}"


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


TEST_DATA = Path(os.environ.get("ORDERS_TEST_DATA_DIR", ROOT / ".data" / "test"))
ADMIN_TOKEN = "admin-token-for-erasure-tests"  # the operator's, on `command_client`'s API


@pytest.fixture(scope="session")
def servers() -> Iterator[Endpoints]:
    """Configured servers, or embedded ones in .data/test. Those this session started are
    stopped when it ends; ones already running (another session's) are left to their owner."""
    data = TEST_DATA.resolve()
    running_before = (
        (data / "postgres" / "postmaster.pid").exists(),
        (data / "redis" / "redis.pid").exists(),
    )
    endpoints = ensure_servers(Settings(ORDERS_DATA_DIR=str(TEST_DATA)))
    yield endpoints
    if endpoints.embedded_redis and not running_before[1]:
        stop_redis(data / "redis")
    if endpoints.embedded_postgres and not running_before[0]:
        stop_postgres(data / "postgres")


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


@pytest.fixture(scope="session")
def template_url(servers: Endpoints) -> Iterator[str]:
    with _admin(servers.database_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    url = with_database(servers.database_url, TEMPLATE)
    migrations.upgrade(url)
    yield url
    with _admin(servers.database_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')


@pytest.fixture
def fresh_database(servers: Endpoints, template_url: str) -> Iterator[Callable[[], str]]:
    """Makes fresh, migrated databases of the test's own (dropped after it)."""
    names: list[str] = []

    def make() -> str:
        names.append(f"orders_t_{uuid.uuid4().hex[:12]}")
        with _admin(servers.database_url) as conn:
            conn.execute(f'CREATE DATABASE "{names[-1]}" TEMPLATE "{TEMPLATE}"')
        return with_database(servers.database_url, names[-1])

    assert template_url
    yield make
    with _admin(servers.database_url) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(fresh_database: Callable[[], str]) -> str:
    """A fresh, migrated database of the test's own."""
    return fresh_database()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    async with await EventStore.open(database_url, max_size=40) as s:
        yield s


@pytest.fixture
async def command_api(database_url: str, servers: Endpoints) -> AsyncIterator[httpx.AsyncClient]:
    """The command API app over ASGI, its lifespan run, on the test's own database."""

    settings = Settings(RATE_LIMIT_ENABLED="false", ORDERS_DATA_DIR=str(TEST_DATA))
    app = create_app(settings, database_url, servers.redis_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://commands") as client:
            yield client


@asynccontextmanager
async def command_client(
    database_url: str, redis_url: str, **env: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The command API over ASGI (its lifespan run) with the erasure tests' settings and `env`;
    the app as the client's `app`, to look at its command path."""
    settings = Settings(
        RATE_LIMIT_ENABLED="false", ORDERS_DATA_DIR=str(TEST_DATA),
        ORDERS_ADMIN_TOKEN=ADMIN_TOKEN, ORDERS_ERASURE_REGISTER=str(TEST_DATA / "erasures"),
        **env,
    )  # fmt: skip
    app = create_app(settings, database_url, redis_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://commands") as api:
            api.app = app  # type: ignore[attr-defined]
            yield api


@pytest.fixture
async def commands(database_url: str, servers: Endpoints) -> AsyncIterator[httpx.AsyncClient]:
    """The command API as `command_client` makes it (an operator may erase), sealing on."""
    async with command_client(database_url, servers.redis_url) as api:
        yield api


@pytest.fixture
async def unsealed(database_url: str, servers: Endpoints) -> AsyncIterator[httpx.AsyncClient]:
    """The command API as it wrote before sealing: personal values plain in the events."""
    async with command_client(
        database_url, servers.redis_url, ORDERS_SEAL_PERSONAL_DATA="false"
    ) as api:
        yield api


@pytest.fixture
def shop(command_api: httpx.AsyncClient) -> Shop:
    return Shop(command_api)


@pytest.fixture
async def projected(database_url: str, servers: Endpoints) -> AsyncIterator[Projected]:
    """The read models of the test's database, in a Redis database flushed for the test, and
    the projector that fills them."""

    redis_url = with_redis_db(servers.redis_url, QUERY_REDIS_DB)
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    engine = await open_engine(
        database_url, redis_url, master=MASTER, application_name="test-projector"
    )
    try:
        yield Projected(engine, redis, redis_url, database_url)
    finally:
        await engine.close()
        await redis.aclose()


@pytest.fixture
async def query_api(database_url: str, projected: Projected) -> AsyncIterator[httpx.AsyncClient]:
    """The query API app over ASGI, its lifespan run, on the test's database and read models."""
    settings = query_settings(TEST_DATA)
    async with query_client(
        settings, database_url, projected.redis_url, projected.queue_url
    ) as client:
        yield client


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A three-master Redis Cluster of the session's own, for the read side's cluster tests."""
    cluster = start_cluster(tmp_path_factory.mktemp("redis-cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture
async def redis_url(servers: Endpoints) -> str:
    """The projector tests' own Redis database, empty."""
    return await flushed(with_projector_db(servers.redis_url, PROJECTOR_REDIS_DB))


@pytest.fixture
async def engine(database_url: str, redis_url: str) -> AsyncIterator[Engine]:
    """A projector engine on the test's database and Redis (to project with, and to look at the
    read models)."""
    engine = await open_engine(database_url, redis_url, master=MASTER)
    yield engine
    await engine.close()

"""The command API while its PostgreSQL is stopped and started again: writes are refused at once
with a 503 (not after the pool's 10 s wait, longer than many clients wait), and go through again
by themselves once the server is back. A PostgreSQL of the test's own (the suite's is shared),
stopped and started by PID."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

import migrations
from command_api.app import create_app
from loadtest.servers import Counts, Servers
from orders.embedded import Endpoints
from orders.settings import Settings

pytestmark = pytest.mark.integration

# generous beside the 0.5 s it takes; the pool's own wait was 10 s
REFUSED_WITHIN = 3.0
RECOVERED_WITHIN = 30.0


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[tuple[Servers, str]]:
    servers = Servers(tmp_path, dict(os.environ), Counts())
    servers.start_postgres()
    url = f"postgresql://postgres@/postgres?host={tmp_path / 'postgres'}"
    migrations.upgrade(url)
    yield servers, url
    servers.stop_postgres()


@pytest.fixture
async def writes(
    own_postgres: tuple[Servers, str], servers: Endpoints
) -> AsyncIterator[httpx.AsyncClient]:
    _, url = own_postgres
    app = create_app(Settings(RATE_LIMIT_ENABLED="false"), url, servers.redis_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://commands") as client:
            yield client


async def timed_write(api: httpx.AsyncClient) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = await api.post("/categories", json={"name": f"Outage {uuid.uuid4().hex[:8]}"})
    return response, time.monotonic() - start


async def test_writes_are_refused_at_once_without_postgresql_and_resume_when_it_is_back(
    own_postgres: tuple[Servers, str], writes: httpx.AsyncClient
) -> None:
    servers, _ = own_postgres
    created, _ = await timed_write(writes)
    assert created.status_code == 201, created.text

    servers.stop_postgres()
    for _ in range(6):  # the pooled connection found broken, then the pool with none
        refused, seconds = await timed_write(writes)
        assert refused.status_code == 503, refused.text
        assert refused.json()["code"] == "store_unavailable"
        assert seconds < REFUSED_WITHIN, f"a refused write took {seconds:.1f} s"

    servers.start_postgres()  # and nothing else: the same app, the same pool
    deadline = time.monotonic() + RECOVERED_WITHIN
    while (response := (await timed_write(writes))[0]).status_code != 201:
        assert response.status_code == 503, response.text
        assert time.monotonic() < deadline, "writes did not resume"
        await asyncio.sleep(0.2)

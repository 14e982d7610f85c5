"""Schemathesis against both OpenAPI documents, every operation, over real HTTP: whatever the
generated request (valid or not), the answer is no server error and matches what the document
declares (status, content type, headers, body schema).

Both APIs run behind uvicorn in a thread of their own (schemathesis calls them with a blocking
client), on a database of this module's, holding a small shop (so reads find documents, and
writes find the entities they refer to) that the projector has caught up with. The auditors'
and operators' tokens are sent, so the guarded operations are fuzzed past their gates
(`test_security_access.py` holds the gates themselves). Examples per operation are bounded so
that the module runs in well under a minute.

Operations are collected from the apps' documents at import (building an app connects to
nothing) and driven with `APIOperation.as_strategy`: schemathesis's own pytest integration
(`schemathesis.pytest.from_fixture`) needs a pytest older than 9.2 (it sets `Node._nodeid`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import httpx
import psycopg
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis
from schemathesis import APIOperation, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi import checks

from command_api.app import create_app as create_command_app
from orders.embedded import Endpoints
from projector import live
from projector.engine import open_engine
from query_api.app import create_app as create_query_app
from tests.conftest import TEMPLATE, TEST_DATA, with_database
from tests.integration.query_world import build_world
from tests.keys import MASTER
from tests.query import AUDIT, QUERY_REDIS_DB, query_settings, with_redis_db
from tests.served import LoopThread, served
from tests.shop import Shop

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "operator-token-for-fuzzing"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
# Per operation and mode: enough to cross every declared constraint in CI, in well under a
# minute; ORDERS_FUZZ_EXAMPLES=500 hunts longer, with fresh random cases each run.
EXAMPLES = int(os.environ.get("ORDERS_FUZZ_EXAMPLES") or 8)
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    derandomize="ORDERS_FUZZ_EXAMPLES" not in os.environ,  # CI: the same cases every run
)
# What the issue asks of every answer; schemathesis's other checks judge API design choices
# (e.g. that a valid body must be accepted, when it names a client that does not exist).
CHECKS = [
    not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@dataclass(frozen=True, slots=True)
class Platform:
    command_url: str
    query_url: str


@asynccontextmanager
async def running(database_url: str, servers: Endpoints) -> AsyncIterator[Platform]:
    """Both APIs served, a small shop written through the command API and projected."""

    redis_url = with_redis_db(servers.redis_url, QUERY_REDIS_DB)
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    settings = query_settings(TEST_DATA, ORDERS_ADMIN_TOKEN=ADMIN_TOKEN)
    async with AsyncExitStack() as stack:
        command_url = await stack.enter_async_context(
            served(create_command_app(settings, database_url, servers.redis_url))
        )
        query_url = await stack.enter_async_context(
            served(create_query_app(settings, database_url, redis_url))
        )
        async with httpx.AsyncClient(base_url=command_url, timeout=30) as api:
            await build_world(Shop(api), api)
        engine = await open_engine(
            database_url, redis_url, master=MASTER, application_name="fuzz-projector"
        )
        try:
            await live.follow(engine)
        finally:
            await engine.close()
        yield Platform(command_url, query_url)


@pytest.fixture(scope="module")
def platform(servers: Endpoints, template_url: str) -> Iterator[Platform]:
    name = f"orders_fuzz_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(servers.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"')
    loop = LoopThread()
    context = running(with_database(servers.database_url, name), servers)
    try:
        yield loop.run(context.__aenter__())
    finally:
        loop.run(context.__aexit__(None, None, None))
        loop.close()
        with psycopg.connect(servers.database_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def operations_of(app: FastAPI) -> list[APIOperation]:
    """Every operation of an app's OpenAPI document (built without running the app)."""
    schema = schemathesis.openapi.from_dict(app.openapi())
    return [result.ok() for result in schema.get_all_operations()]


def unstarted_apps() -> dict[str, FastAPI]:
    """The two apps as objects: their lifespans (the only place they connect) never run."""

    settings = query_settings(TEST_DATA)
    nowhere = ("postgresql://nowhere/none", "redis://nowhere/0")
    return {
        "command": create_command_app(settings, *nowhere),
        "query": create_query_app(settings, *nowhere),
    }


OPERATIONS = [
    pytest.param(api, operation, mode, id=f"{api} {operation.label} {mode.value}")
    for api, app in unstarted_apps().items()
    for operation in operations_of(app)
    for mode in GenerationMode
    # nothing to get wrong in a request without parameters or body
    if mode is GenerationMode.POSITIVE or any(operation.iter_parameters()) or operation.body
]


@pytest.mark.parametrize(("api", "operation", "mode"), OPERATIONS)
@FUZZ
@given(data=st.data())
def test_every_operation_answers_any_request_as_its_document_says(
    platform: Platform,
    api: str,
    operation: APIOperation,
    mode: GenerationMode,
    data: st.DataObject,
) -> None:
    case = data.draw(operation.as_strategy(mode))
    base_url = platform.command_url if api == "command" else platform.query_url
    token = ADMIN if operation.path.startswith("/admin") else AUDIT
    case.call_and_validate(base_url=base_url, headers=token, checks=CHECKS)

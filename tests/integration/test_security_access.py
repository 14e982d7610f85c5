"""Who gets in, over real HTTP: the rate limit cannot be escaped by forging the client address
from an untrusted peer, on either API; every operation the query API guards with a token (as
its OpenAPI document declares them: the auditors', and the operators' where present) refuses a
missing, malformed, wrong or borrowed token."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from command_api.app import create_app as create_command_app
from orders.embedded import Endpoints
from query_api.app import create_app as create_query_app
from tests.conftest import TEST_DATA
from tests.query import AUDIT_TOKEN, Projected, query_settings
from tests.served import served
from tests.shop import Shop

pytestmark = pytest.mark.integration

CALLS = 4
ADMIN_TOKEN = "operator-token-for-security-tests"
TOKENS = {"AuditToken": AUDIT_TOKEN, "AdminToken": ADMIN_TOKEN}  # by OpenAPI security scheme
LIMITED = {
    "RATE_LIMIT_ENABLED": "true",
    "RATE_LIMIT_CALLS": CALLS,
    "RATE_LIMIT_PERIOD": 60,
    # proxies exist, but the tests' peer (127.0.0.1) is not one of them
    "ORDERS_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.0.0/16",
}


@asynccontextmanager
async def serving_both(
    database_url: str, servers: Endpoints, projected: Projected, **values: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Command and query API behind uvicorn, with both tokens configured."""

    settings = query_settings(TEST_DATA, ORDERS_ADMIN_TOKEN=ADMIN_TOKEN, **values)
    command_app = create_command_app(settings, database_url, servers.redis_url)
    query_app = create_query_app(settings, database_url, projected.redis_url)
    async with (
        served(command_app) as command_url,
        served(query_app) as query_url,
        httpx.AsyncClient(base_url=command_url, timeout=30) as commands,
        httpx.AsyncClient(base_url=query_url, timeout=30) as queries,
    ):
        yield commands, queries


@pytest.fixture
async def limited(
    database_url: str, servers: Endpoints, projected: Projected
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    redis = Redis.from_url(servers.redis_url)
    try:  # this peer's window from an earlier run of the test must not count
        await redis.delete("orders:ratelimit:command:127.0.0.1")
    finally:
        await redis.aclose()
    async with serving_both(database_url, servers, projected, **LIMITED) as both:
        yield both


@pytest.fixture
async def unlimited(
    database_url: str, servers: Endpoints, projected: Projected
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    async with serving_both(database_url, servers, projected) as both:
        yield both


def forgeries(n: int) -> list[list[tuple[str, str]]]:
    """Every way a client might claim to be someone else, each with a fresh address."""
    a, b = f"203.0.113.{n % 250 + 1}", f"198.51.100.{n % 250 + 1}"
    return [
        [("X-Forwarded-For", a)],
        [("X-Forwarded-For", "10.0.0.5")],  # a trusted proxy's address
        [("X-Forwarded-For", f"{a}, 10.0.0.1")],
        [("X-Forwarded-For", a), ("X-Forwarded-For", b)],
        [("X-Real-IP", a)],
        [("Forwarded", f"for={a};proto=https")],
        [("X-Client-IP", a), ("True-Client-IP", a), ("CF-Connecting-IP", a)],
        [("X-Cluster-Client-IP", a), ("X-Originating-IP", a), ("Client-IP", b)],
        [("x-forwarded-for", f"[2001:db8::{n}]:443")],
        [("X-Forwarded-For", "unknown"), ("X-Real-IP", "127.0.0.2")],
    ]


async def statuses_under_forgery(client: httpx.AsyncClient, method: str, path: str) -> list[int]:
    statuses = []
    for n, headers in enumerate(forgeries(1)):
        body = {"name": f"Forged {n} {uuid.uuid4().hex[:6]}"} if method == "POST" else None
        response = await client.request(method, path, json=body, headers=headers)
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["retry-after"] == "60"
            assert response.json()["code"] == "rate_limited"
    return statuses


async def test_forged_client_addresses_from_an_untrusted_peer_do_not_escape_the_limit(
    limited: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    commands, queries = limited
    tries = len(forgeries(1))
    assert await statuses_under_forgery(commands, "POST", "/categories") == [201] * CALLS + [
        429
    ] * (tries - CALLS)
    assert await statuses_under_forgery(queries, "GET", "/products") == [200] * CALLS + [429] * (
        tries - CALLS
    )


async def test_odd_paths_to_the_same_route_count_against_the_same_limit(
    limited: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    _, queries = limited
    paths = ["/products", "/products/", "/products?limit=5", "/products/?skip=0",
             "//products", "/products/../products", "/health_check/../products"]  # fmt: skip
    statuses = [(await queries.get(path)).status_code for path in paths]
    assert statuses[:CALLS] != [429] * CALLS
    assert statuses[CALLS:] == [429] * (len(paths) - CALLS)


# --- token gates -------------------------------------------------------------------------


def guarded_operations(spec: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(method, path, security scheme, optional) for every operation that names a scheme."""
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            requirements = operation.get("security", [])
            schemes = [name for requirement in requirements for name in requirement]
            optional = {} in requirements
            found += [(method.upper(), path, scheme, optional) for scheme in schemes]
    return found


def concrete(path: str) -> str:
    """A path template with its parameters filled: ids 1, anything else a uuid."""
    return re.sub(r"\{(\w+)\}", lambda m: "1" if "id_key" in m[1] else str(uuid.uuid4()), path)


def refusals(token: str, other: str) -> list[tuple[str, dict[str, str], dict[str, str], int]]:
    """(what, headers, query, status): presentations of a token that must not open the gate."""
    basic = base64.b64encode(f"user:{token}".encode()).decode()
    elsewhere = {"X-Api-Key": token, "X-Auth-Token": token, "Cookie": f"token={token}"}
    return [
        ("none", {}, {}, 401),
        ("empty bearer", {"Authorization": "Bearer"}, {}, 401),
        ("bare token", {"Authorization": token}, {}, 401),
        ("basic", {"Authorization": f"Basic {basic}"}, {}, 401),
        ("not in Authorization", elsewhere, {"token": token, "access_token": token}, 401),
        ("wrong", {"Authorization": "Bearer ' OR '1'='1"}, {}, 403),
        ("prefix", {"Authorization": f"Bearer {token[:-1]}"}, {}, 403),
        ("suffix", {"Authorization": f"Bearer {token.upper()}x"}, {}, 403),
        ("the other role's", {"Authorization": f"Bearer {other}"}, {}, 403),
    ]


async def test_every_guarded_operation_refuses_missing_and_wrong_tokens(
    shop: Shop,
    projected: Projected,
    unlimited: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    _, queries = unlimited
    await shop.product()
    await projected.catch_up()
    spec = (await queries.get("/openapi.json")).json()
    guarded = guarded_operations(spec)
    assert {scheme for *_, scheme, _ in guarded} >= {"AuditToken"}
    assert len(guarded) >= 10  # histories, feed, verify, as_of
    for method, template, scheme, optional in guarded:
        path, token = concrete(template), TOKENS[scheme]
        other = next(t for s, t in TOKENS.items() if s != scheme)
        query = {"as_of": "1"} if optional else {}  # an optional gate guards `?as_of=` only
        for what, headers, extra, status in refusals(token, other):
            response = await queries.request(
                method, path, params={**query, **extra}, headers=headers
            )
            assert response.status_code == status, (method, path, what, response.text)
            assert response.json()["code"] == ("unauthorized" if status == 401 else "forbidden")
            assert token not in response.text
        opened = await queries.request(
            method, path, params=query, headers={"Authorization": f"Bearer {token}"}
        )
        assert opened.status_code not in {401, 403}, (method, path, opened.text)

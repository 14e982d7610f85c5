"""The Redis rate limiter: the original's limit, body and headers; exemptions; client addresses
trusted only from configured proxies; fail-open when Redis is gone."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from orders.embedded import Endpoints
from orders.web import TrustedProxies, client_ip
from tests.integration.web_demo import (
    DEAD_REDIS,
    captured_logs,
    client_as,
    demo_app,
    demo_settings,
    serving,
)

pytestmark = pytest.mark.integration

CALLS = 3


@pytest.fixture
def app(servers: Endpoints) -> FastAPI:
    settings = demo_settings(
        RATE_LIMIT_CALLS=CALLS, RATE_LIMIT_PERIOD=60, ORDERS_TRUSTED_PROXIES="10.0.0.0/8, ::1"
    )
    return demo_app(settings, redis_url=servers.redis_url)


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(app, client=("198.51.100.1", 1234)) as client:
        yield client


async def test_allowed_responses_carry_the_three_rate_limit_headers(
    http: httpx.AsyncClient,
) -> None:
    before = int(time.time())
    remaining = []
    for _ in range(CALLS):
        response = await http.get("/things/1")
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == str(CALLS)
        assert before + 1 <= int(response.headers["x-ratelimit-reset"]) <= before + 61
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
    assert remaining == [2, 1, 0]


async def test_the_call_after_the_limit_is_a_429_with_the_original_body_and_headers(
    http: httpx.AsyncClient,
) -> None:
    for _ in range(CALLS):
        await http.get("/things/1")
    response = await http.get("/things/1", headers={"X-Request-ID": "req-429"})
    assert response.status_code == 429
    body = response.json()
    assert body["detail"] == f"Rate limit exceeded. Maximum {CALLS} requests per 60 seconds."
    assert body["retry_after"] == 60
    assert (body["code"], body["request_id"]) == ("rate_limited", "req-429")
    assert response.headers["retry-after"] == "60"
    assert response.headers["x-ratelimit-limit"] == str(CALLS)
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert int(response.headers["x-ratelimit-reset"]) > time.time()
    assert response.headers["x-request-id"] == "req-429"


async def test_errors_count_too(http: httpx.AsyncClient) -> None:
    for _ in range(CALLS):
        await http.get("/nowhere")
    assert (await http.get("/things/1")).status_code == 429


@pytest.mark.parametrize(
    "path", ["/health_check", "/health_check/", "/docs", "/redoc", "/openapi.json"]
)
async def test_health_and_docs_are_exempt(http: httpx.AsyncClient, path: str) -> None:
    for _ in range(CALLS + 2):
        response = await http.get(path)
        assert response.status_code != 429
        assert "x-ratelimit-limit" not in response.headers
    assert (await http.get("/things/1")).headers["x-ratelimit-remaining"] == str(CALLS - 1)


async def test_concurrent_requests_never_get_past_the_limit(app: FastAPI) -> None:
    async with serving(app, client=("198.51.100.2", 1)) as http:
        responses = await asyncio.gather(*(http.get("/things/1") for _ in range(30)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * CALLS + [429] * (30 - CALLS)


async def test_each_client_address_has_its_own_bucket(
    app: FastAPI, http: httpx.AsyncClient
) -> None:
    for _ in range(CALLS + 1):
        await http.get("/things/1")
    async with client_as(app, "198.51.100.99") as other:
        assert (await other.get("/things/1")).status_code == 200


async def test_a_spoofed_forwarded_for_from_an_untrusted_peer_changes_nothing(
    http: httpx.AsyncClient,
) -> None:
    statuses = [
        (
            await http.get(
                "/things/1",
                headers={"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"203.0.114.{n}"},
            )
        ).status_code
        for n in range(CALLS + 2)
    ]
    assert statuses == [200] * CALLS + [429, 429]


async def test_a_trusted_proxy_s_forwarded_for_names_the_client(app: FastAPI) -> None:
    async with serving(app, client=("10.0.0.7", 1)) as proxy:
        as_first = {"X-Forwarded-For": "203.0.113.5"}
        statuses = [(await proxy.get("/things/1", headers=as_first)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        # another client behind the same proxy has its own bucket
        as_second = {"X-Forwarded-For": "203.0.113.6"}
        assert (await proxy.get("/things/1", headers=as_second)).status_code == 200
        # a client that forges hops to the left of the proxy's own entry stays itself
        forged = {"X-Forwarded-For": "1.1.1.1, 203.0.113.5"}
        assert (await proxy.get("/things/1", headers=forged)).status_code == 429


async def test_a_trusted_proxy_s_real_ip_is_used_without_forwarded_for(app: FastAPI) -> None:
    async with serving(app, client=("10.9.9.9", 1)) as proxy:
        headers = {"X-Real-IP": "203.0.113.77"}
        statuses = [(await proxy.get("/things/1", headers=headers)).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert (await proxy.get("/things/1")).status_code == 200  # the proxy's own bucket


async def test_it_fails_open_and_fast_when_redis_is_unreachable(servers: Endpoints) -> None:
    app = demo_app(demo_settings(RATE_LIMIT_CALLS=1), redis_url=DEAD_REDIS)
    with captured_logs() as logs:
        async with serving(app) as http, asyncio.timeout(10):  # a hang fails, not a slow run
            responses = [await http.get("/things/1") for _ in range(20)]
    assert {response.status_code for response in responses} == {200}
    assert all("x-ratelimit-limit" not in response.headers for response in responses)
    warnings = [line for line in logs.getvalue().splitlines() if "rate limiter" in line]
    assert len(warnings) == 1  # one line when Redis goes away, not one per request


async def test_disabled_it_limits_nothing(servers: Endpoints) -> None:
    settings = demo_settings(RATE_LIMIT_ENABLED=False, RATE_LIMIT_CALLS=1)
    async with serving(demo_app(settings, redis_url=servers.redis_url)) as http:
        responses = [await http.get("/things/1") for _ in range(3)]
    assert [response.status_code for response in responses] == [200, 200, 200]
    assert "x-ratelimit-limit" not in responses[0].headers


def scope(peer: str, *headers: tuple[str, str]) -> dict[str, object]:
    raw = [(name.lower().encode(), value.encode()) for name, value in headers]
    return {"type": "http", "client": (peer, 1), "headers": raw}


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        ("198.51.100.1", [("X-Forwarded-For", "1.2.3.4")], "198.51.100.1"),
        ("10.0.0.1", [("X-Forwarded-For", "1.2.3.4")], "1.2.3.4"),
        ("10.0.0.1", [("X-Forwarded-For", "6.6.6.6, 1.2.3.4, 10.0.0.2")], "1.2.3.4"),
        ("10.0.0.1", [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "1.2.3.4")], "1.2.3.4"),
        ("10.0.0.1", [("X-Forwarded-For", "not-an-ip")], "10.0.0.1"),
        ("10.0.0.1", [("X-Forwarded-For", "1.2.3.4:5678")], "1.2.3.4"),
        ("10.0.0.1", [("X-Forwarded-For", "[2001:db8::1]:443")], "2001:db8::1"),
        ("10.0.0.1", [("X-Real-IP", "1.2.3.4")], "1.2.3.4"),
        ("::1", [("X-Forwarded-For", "::ffff:1.2.3.4")], "1.2.3.4"),
        ("unix-socket", [("X-Forwarded-For", "1.2.3.4")], "unix-socket"),
    ],
)
def test_the_client_address_is_taken_from_proxies_only_when_they_are_trusted(
    peer: str, headers: list[tuple[str, str]], expected: str
) -> None:
    proxies = TrustedProxies.parse("10.0.0.0/8, ::1")
    assert client_ip(scope(peer, *headers), proxies) == expected


def test_no_trusted_proxies_means_the_peer_always() -> None:
    assert client_ip(scope("10.0.0.1", ("X-Forwarded-For", "1.2.3.4")), TrustedProxies()) == (
        "10.0.0.1"
    )


def test_a_malformed_trusted_proxy_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="ORDERS_TRUSTED_PROXIES"):
        TrustedProxies.parse("10.0.0.0/8, proxy.example.com")

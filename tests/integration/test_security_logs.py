"""No secret, card number or SSN reaches a log line. Both APIs run behind uvicorn (access log on,
everything at DEBUG, the platform's handler on the root logger, as `orders up` runs them) with a
database password in their connection URL and both tokens configured; clients send card numbers
and SSNs in bodies, paths, query strings and headers, tokens right and wrong, and a second
command API whose database is unreachable answers 503s. Then the captured lines are grepped."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from command_api.app import create_app as create_command_app
from orders.embedded import Endpoints
from query_api.app import create_app as create_query_app
from tests.conftest import TEST_DATA
from tests.integration.web_demo import captured_logs
from tests.query import AUDIT_TOKEN, Projected, query_settings
from tests.served import served

pytestmark = pytest.mark.integration

DB_PASSWORD = "Db-Pa55word-never-logged"
ADMIN_TOKEN = "operator-token-never-logged"
CARDS = ["4111111111111111", "4111 1111 1111 1111", "4111-1111-1111-1111", "5500005555555559"]
SSN = "123-45-6789"
SECRETS = [DB_PASSWORD, AUDIT_TOKEN, ADMIN_TOKEN, "hunter2", *CARDS, SSN]


def with_password(url: str, password: str) -> str:
    """The same database, with a password in the URL (trust authentication ignores it)."""
    parts = urlsplit(url)
    user = parts.username or "postgres"
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}{port}"))


@asynccontextmanager
async def platform(
    database_url: str, servers: Endpoints, projected: Projected
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, httpx.AsyncClient]]:
    settings = query_settings(TEST_DATA, ORDERS_ADMIN_TOKEN=ADMIN_TOKEN, LOG_LEVEL="DEBUG")
    url = with_password(database_url, DB_PASSWORD)
    dead = f"postgresql://postgres:{DB_PASSWORD}@127.0.0.1:1/orders?connect_timeout=1"
    apps = [
        create_command_app(settings, url, servers.redis_url),
        create_query_app(settings, url, projected.redis_url),
        create_command_app(settings, dead, servers.redis_url),
    ]
    async with (
        served(apps[0], access_log=True) as commands_url,
        served(apps[1], access_log=True) as queries_url,
        served(apps[2], access_log=True) as dead_url,
        httpx.AsyncClient(base_url=commands_url, timeout=30) as commands,
        httpx.AsyncClient(base_url=queries_url, timeout=30) as queries,
        httpx.AsyncClient(base_url=dead_url, timeout=30) as broken,
    ):
        yield commands, queries, broken


async def send_secrets(
    commands: httpx.AsyncClient, queries: httpx.AsyncClient, broken: httpx.AsyncClient
) -> list[int]:
    """Requests carrying secrets everywhere a client can put them; their statuses."""
    sent = []
    client = await commands.post(
        "/clients",
        json={"name": f"Card {CARDS[1]}", "lastname": f"SSN {SSN}", "email": "pw@x.org"},
        headers={"X-Request-ID": CARDS[0], "X-Correlation-ID": f"ssn {SSN}",
                 "Idempotency-Key": CARDS[2], "Authorization": f"Bearer {AUDIT_TOKEN}"},
    )  # fmt: skip
    sent.append(client.status_code)
    for path, body in [
        ("/addresses", {"street": "password=hunter2", "city": CARDS[3], "client_id": 1}),
        (
            "/bills",
            {
                "bill_number": CARDS[0],
                "date": "2026-11-26",
                "total": 1,
                "payment_type": 2,
                "client_id": 1,
            },
        ),
        ("/clients", {"telephone": CARDS[0], "email": f"{SSN}@x"}),  # 422s echo them back
        ("/clients", {"name": "x" * 101, "lastname": f"token={ADMIN_TOKEN}"}),
    ]:
        sent.append(
            (await commands.post(path, json=body, headers={"X-Request-ID": SSN})).status_code
        )
    sent.append((await commands.get(f"/clients/{CARDS[0]}?password=hunter2")).status_code)
    for token in (AUDIT_TOKEN, ADMIN_TOKEN, "hunter2"):
        auth = {"Authorization": f"Bearer {token}", "Cookie": f"session={token}"}
        for path in ("/events", "/clients/1/history", "/admin/projections", "/clients/1"):
            response = await queries.get(path, params={"as_of": "1", "token": token}, headers=auth)
            sent.append(response.status_code)
    sent.append((await queries.get(f"/clients?access_token={AUDIT_TOKEN}&ssn={SSN}")).status_code)
    sent.append((await queries.get(f"/clients/{CARDS[0].replace(' ', '')}")).status_code)
    sent.append((await queries.get("/events")).status_code)  # no token at all
    # the database refuses connections: the pool and the health check log why, every second
    sent.append((await broken.get("/health_check")).status_code)
    return sent


async def test_no_secret_card_number_or_ssn_reaches_a_log_line(
    database_url: str, servers: Endpoints, projected: Projected
) -> None:
    # a uvicorn started earlier with access_log=False has cut its access logger off the root
    access = logging.getLogger("uvicorn.access")
    propagates, access.propagate = access.propagate, True
    try:
        with captured_logs(logging.DEBUG) as logs:
            async with platform(database_url, servers, projected) as (commands, queries, broken):
                statuses = await send_secrets(commands, queries, broken)
                await projected.catch_up()
    finally:
        access.propagate = propagates
    text = logs.getvalue()
    assert 201 in statuses  # secrets were stored: they went all the way through
    assert {401, 403, 422, 503} <= set(statuses)  # and through the refusals, which log more
    assert "GET /events" in text  # the access log was captured ...
    assert "[REDACTED]" in text  # ... with secrets in it, redacted
    assert "[CARD_REDACTED]" in text
    leaks = [line for line in text.splitlines() if any(secret in line for secret in SECRETS)]
    assert not leaks, "\n".join(leaks[:20])

"""Hostile input: SQL-like, format-string, Redis-protocol and control-character strings in every
text field of every resource and in the headers the APIs read; bodies and headers over the
limits. Every value is stored and returned verbatim (by the command API, the read models and the
audit trail) or refused with a 4xx; nothing is executed; nothing is a 500."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from eventstore import EventStore
from tests.query import AUDIT, Projected
from tests.shop import Shop

pytestmark = pytest.mark.integration

HOSTILE = [
    "Robert'); DROP TABLE events;--",
    "' OR '1'='1' --",
    "1; UPDATE streams SET version = 0; --",
    "$$; TRUNCATE feed CASCADE; $$",
    "%s %(name)s {0} {id_key} %n",  # driver and format placeholders
    "\\'; SELECT pg_sleep(30); --\\",
    '"; FLUSHALL; "',
    "x\r\nFLUSHALL\r\n*1\r\n$8\r\nFLUSHALL\r\n",  # Redis protocol
    'redis.call("FLUSHALL") ]] --',  # Lua
    '{"$gt": ""}',
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "tab\there, newline\nthere, return\r",
    "\x01\x02\x1b[31mred\x7f\x9b",
    "\u202eevil\u202c \ufeffbom \u200b zero width",
    "emoji 🛒 and ǅ and ﷽",
    "a\x00b",  # NUL: PostgreSQL cannot store it, refused with 422
]
# Where a value lands: the resource, its text field, and the rest of a valid body.
FIELDS: list[tuple[str, str]] = [
    ("categories", "name"),
    ("products", "name"),
    ("clients", "name"),
    ("clients", "lastname"),
    ("clients", "email"),
    ("clients", "telephone"),
    ("addresses", "street"),
    ("addresses", "number"),
    ("addresses", "city"),
    ("bills", "bill_number"),
    ("reviews", "comment"),
]
LENGTHS = {
    "name": (1, 100), "lastname": (1, 100), "email": (3, 254), "street": (1, 200),
    "number": (0, 20), "city": (1, 100), "bill_number": (1, 50), "comment": (10, 1000),
    "telephone": (7, 20),
}  # fmt: skip
PRODUCT_NAME = (1, 200)
UNIQUE = {("categories", "name"), ("clients", "email"), ("bills", "bill_number")}


def acceptable(resource: str, name: str, value: str) -> bool:
    """Whether the documented rules accept the value (else the answer must be a 422)."""
    low, high = PRODUCT_NAME if resource == "products" else LENGTHS[name]
    if "\x00" in value or not low <= len(value) <= high:
        return False
    if name == "email":
        return value.count("@") == 1 and not any(c.isspace() for c in value)
    return name != "telephone"  # none of them is a telephone number


async def events_in(database_url: str) -> int:
    async with await EventStore.open(database_url) as store, store.pool.connection() as conn:
        row = await (await conn.execute("SELECT count(*) FROM events")).fetchone()
    assert row is not None
    return int(row[0])


def email_like(n: int, value: str) -> str:
    return f"{value.replace('@', '').replace(' ', '')}{n}@example.com"


async def bodies(shop: Shop) -> dict[str, Callable[[str, Any], dict[str, Any]]]:
    """Per resource: a valid body with one text field set to a value."""
    category = await shop.category()
    client = await shop.client()
    product = await shop.product(category=category)
    return {
        "categories": lambda f, v: {f: v},
        "products": lambda f, v: {f: v, "price": 1.5, "stock": 1, "category_id": category},
        "clients": lambda f, v: {f: v},
        "addresses": lambda f, v: {"street": "s", "city": "c", f: v, "client_id": client},
        "bills": lambda f, v: {
            f: v,
            "date": "2026-11-26",
            "total": 1,
            "payment_type": 1,
            "client_id": client,
        },
        "reviews": lambda f, v: {"rating": 3, f: v, "product_id": product},
    }


def values_for(resource: str, name: str) -> list[str]:
    counter = itertools.count()
    values = []
    for value in HOSTILE:
        n = next(counter)
        if name == "email":
            value = email_like(n, value)  # noqa: PLW2901 -- the hostile part, made an address
        elif (resource, name) in UNIQUE:
            value = f"{n}:{value}"  # noqa: PLW2901 -- unique values must differ from each other
        elif name == "comment":
            value = f"comment: {value}"  # noqa: PLW2901 -- comments are at least 10 long
        values.append(value)
    return values


async def test_hostile_text_is_stored_and_served_verbatim_or_refused_with_422(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    body_of = await bodies(shop)
    stored: dict[tuple[str, int], tuple[str, str]] = {}  # (resource, id) -> (field, value)
    for resource, name in FIELDS:
        for value in values_for(resource, name):
            response = await command_api.post(f"/{resource}", json=body_of[resource](name, value))
            if not acceptable(resource, name, value):
                assert response.status_code == 422, (resource, name, value, response.text)
                continue
            assert response.status_code == 201, (resource, name, value, response.text)
            assert response.json()[name] == value
            stored[(resource, response.json()["id_key"])] = (name, value)
    assert len(stored) > len(FIELDS) * 10  # most values are legitimate text, and kept

    head = await projected.catch_up()
    for (resource, id_key), (name, value) in stored.items():
        document = await query_api.get(f"/{resource}/{id_key}")
        assert document.json()[name] == value, (resource, name, value)
    assert (await query_api.get("/audit/verify", headers=AUDIT)).json()["ok"] is True
    feed = await query_api.get("/events", params={"after": 0, "limit": 1000}, headers=AUDIT)
    assert len(feed.json()) == head  # every event is still there, nothing was executed
    recorded = {v for event in feed.json() for v in event["data"].values() if isinstance(v, str)}
    assert {value for _, value in stored.values()} <= recorded  # the audit trail, verbatim too


SEEDS = {"email": "seed@example.com", "telephone": "+4412345678", "comment": "a seed comment"}


async def test_hostile_text_in_a_change_is_kept_verbatim_too(
    shop: Shop, command_api: httpx.AsyncClient
) -> None:
    body_of = await bodies(shop)
    for resource, name in FIELDS:
        seed = body_of[resource](name, SEEDS.get(name, "seed"))
        created = await command_api.post(f"/{resource}", json=seed)
        assert created.status_code == 201, created.text
        path = f"/{resource}/{created.json()['id_key']}"
        for value in values_for(resource, name):
            response = await command_api.put(path, json={name: value})
            expected = 200 if acceptable(resource, name, value) else 422
            assert response.status_code == expected, (resource, name, value, response.text)
            if expected == 200:
                assert response.json()[name] == value


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "\\ud800 lone surrogate"}',
        b'{"name": "\\udfff\\ud800"}',
        b'{"name": "\\u0000"}',
        b'{"name": "a", "name": "\\u0000"}',  # a repeated key: the last one counts
    ],
    ids=["surrogate", "reversed-pair", "nul-escape", "repeated-key"],
)
async def test_text_postgresql_cannot_hold_is_refused_with_422(
    command_api: httpx.AsyncClient, database_url: str, raw: bytes
) -> None:
    response = await command_api.post(
        "/categories", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] in {"validation_error", "invalid_field"}
    assert await events_in(database_url) == 0


@pytest.mark.parametrize(
    "raw", [b'{"name": "\xff\xfe not utf-8"}', b'{"name": "caf\xe9"}', b"\xc3\x28"]
)
async def test_a_body_that_is_not_utf8_is_malformed_json_a_422(
    command_api: httpx.AsyncClient, database_url: str, raw: bytes
) -> None:
    response = await command_api.post(
        "/categories", content=raw, headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert await events_in(database_url) == 0


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/products", {"category_id": "1 OR 1=1"}),
        ("/products", {"skip": "0; DROP TABLE feed"}),
        ("/orders", {"status": "1' --"}),
        ("/order_details", {"order_id": "%s"}),
        ("/products/1' OR '1'='1", {}),
        ("/products/1", {"as_of": "2026-01-01'; DROP TABLE events; --"}),
        ("/events", {"after": "0 UNION SELECT 1"}),
    ],
)
async def test_hostile_query_parameters_are_refused_not_run(
    query_api: httpx.AsyncClient, path: str, params: dict[str, str]
) -> None:
    response = await query_api.get(path, params=params, headers=AUDIT)
    assert response.status_code in {404, 422}, response.text
    assert response.json()["code"] in {"validation_error", "not_found", "invalid_as_of"}


# --- headers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["';DROP/**/TABLE/**/events;--", "%s%(id)s{0}", "$$;TRUNCATE/**/feed;$$", "\\x00"]
)
async def test_a_hostile_idempotency_key_is_just_a_key(
    command_api: httpx.AsyncClient, database_url: str, key: str
) -> None:
    first = await command_api.post(
        "/categories", json={"name": "Once"}, headers={"Idempotency-Key": key}
    )
    again = await command_api.post(
        "/categories", json={"name": "Once"}, headers={"Idempotency-Key": key}
    )
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["idempotent-replayed"] == "true"
    async with await EventStore.open(database_url) as store:
        (event,) = await store.read_stream(f"category-{first.json()['id_key']}")
    assert event.metadata["idempotency_key"] == key


HOSTILE_HEADER_VALUES = [
    b"' OR '1'='1",
    b"%s%(x)s",
    b"\x01\x02\x7f",
    b"caf\xe9 latin-1",
    b"\xff" * 300,
    b"a" * 8000,
]


@pytest.mark.parametrize("value", HOSTILE_HEADER_VALUES, ids=lambda v: repr(v[:12]))
async def test_hostile_header_values_never_make_a_server_error(
    command_api: httpx.AsyncClient, query_api: httpx.AsyncClient, database_url: str, value: bytes
) -> None:
    """Through ASGI, so that values a real server would refuse still reach the apps."""
    names = [b"x-request-id", b"x-correlation-id", b"if-match", b"idempotency-key",
             b"x-forwarded-for", b"x-real-ip", b"content-type", b"accept"]  # fmt: skip
    for name in names:
        response = await command_api.post(
            "/categories",
            content=b'{"name": "H"}',
            headers=[(b"content-type", b"application/json"), (name, value)],
        )
        assert response.status_code < 500, (name, value, response.text)
    for name in [b"x-consistency-token", b"if-none-match", b"authorization", b"x-request-id"]:
        for path in ("/products", "/products/1", "/events", "/products/1?as_of=1"):
            response = await query_api.get(path, headers=[(name, value)])
            assert response.status_code < 500, (name, value, path, response.text)


async def test_a_hostile_correlation_id_is_recorded_verbatim_and_the_actor_is_the_peer(
    command_api: httpx.AsyncClient, database_url: str
) -> None:
    correlation = "'; DROP TABLE events; -- %s {0}"
    response = await command_api.post(
        "/categories",
        json={"name": "Traced"},
        headers={"X-Correlation-ID": correlation, "X-Forwarded-For": "' OR 1=1 --"},
    )
    assert response.status_code == 201
    async with await EventStore.open(database_url) as store:
        (event,) = await store.read_stream(f"category-{response.json()['id_key']}")
    assert event.metadata["correlation_id"] == correlation
    assert event.metadata["actor"] == "127.0.0.1"  # the peer, not the forged header

"""The auditors' view: histories, states as of a time or a feed position, the global feed, the
hash-chain check (also on a tampered copy), and who may see them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import psycopg
import pytest

from tests.conftest import TEST_DATA
from tests.query import AUDIT, Projected, query_client, query_settings
from tests.shop import Shop

pytestmark = pytest.mark.integration

AUDIT_PATHS = ["/products/1/history", "/addresses/1/history", "/events", "/audit/verify",
               "/products/1?as_of=1000"]  # fmt: skip


async def history(api: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    response = await api.get(f"{path}/history", headers=AUDIT)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


async def as_of(api: httpx.AsyncClient, path: str, point: object) -> httpx.Response:
    return await api.get(path, params={"as_of": str(point)}, headers=AUDIT)


@pytest.mark.parametrize("path", AUDIT_PATHS)
async def test_the_audit_endpoints_need_the_auditors_token(
    path: str, shop: Shop, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    await shop.product()
    await shop.create("/addresses", street="Main", number="1", city="Paris",
                      client_id=await shop.client())  # fmt: skip
    await projected.catch_up()
    missing = await query_api.get(path)
    assert (missing.status_code, missing.json()["code"]) == (401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    basic = await query_api.get(path, headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401
    wrong = await query_api.get(path, headers={"Authorization": "Bearer not-the-token"})
    assert (wrong.status_code, wrong.json()["code"]) == (403, "forbidden")
    right = await query_api.get(path, headers=AUDIT)
    assert right.status_code == 200, right.text


async def test_without_a_configured_token_auditing_is_disabled(
    shop: Shop, projected: Projected, database_url: str
) -> None:
    product = await shop.product()
    await projected.catch_up()
    settings = query_settings(TEST_DATA, ORDERS_AUDIT_TOKEN=None)
    async with query_client(settings, database_url, projected.redis_url) as api:
        for path in AUDIT_PATHS:
            for headers in ({}, AUDIT):
                refused = await api.get(path, headers=headers)
                assert (refused.status_code, refused.json()["code"]) == (404, "audit_disabled")
        assert (await api.get(f"/products/{product}")).status_code == 200


async def test_an_entitys_history_is_its_events_in_order_with_their_metadata(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    product = await shop.product(price=10.0)
    request_id = "5b1d7c9e-2f3a-4c4d-9e8f-0a1b2c3d4e5f"
    await command_api.put(f"/products/{product}", json={"price": 12.0},
                          headers={"X-Request-ID": request_id})  # fmt: skip
    await command_api.delete(f"/products/{product}")
    await projected.catch_up()
    events = await history(query_api, f"/products/{product}")
    assert [e["version"] for e in events] == [1, 2, 3]
    assert events[0]["type"] == "ProductCreated"
    assert events[-1]["type"] == "ProductDeactivated"
    assert {e["stream_id"] for e in events} == {f"product-{product}"}
    assert events[1]["metadata"]["request_id"] == request_id
    assert events[1]["metadata"]["command"] == "ChangeProduct"
    positions = [e["feed_position"] for e in events]
    assert positions == sorted(positions)
    assert positions[0] >= 1
    assert set(events[0]) == {"feed_position", "global_position", "stream_id", "version",
                              "event_id", "type", "schema_version", "data", "metadata",
                              "recorded_at"}  # fmt: skip
    missing = await query_api.get("/products/9999/history", headers=AUDIT)
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")


async def test_an_address_history_follows_it_across_clients(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    first, second = await shop.client(), await shop.client()
    address = (await shop.create("/addresses", street="Main", number="1", city="Paris",
                                 client_id=first))["id_key"]  # fmt: skip
    await shop.create("/addresses", street="Other", city="Nice", client_id=first)
    await command_api.put(f"/addresses/{address}", json={"city": "Lyon"})
    await command_api.put(f"/addresses/{address}", json={"client_id": second})
    await command_api.delete(f"/addresses/{address}")
    await projected.catch_up()
    events = await history(query_api, f"/addresses/{address}")
    assert [(e["stream_id"], e["type"]) for e in events] == [
        (f"client-{first}", "AddressAdded"),
        (f"client-{first}", "AddressChanged"),
        (f"client-{first}", "AddressRemoved"),
        (f"client-{second}", "AddressAdded"),
        (f"client-{second}", "AddressRemoved"),
    ]
    added, changed, _, moved, removed = (e["feed_position"] for e in events)
    path = f"/addresses/{address}"
    assert (await as_of(query_api, path, added)).json()["city"] == "Paris"
    assert (await as_of(query_api, path, changed)).json() == {
        "id_key": address, "street": "Main", "number": "1", "city": "Lyon", "client_id": first,
    }  # fmt: skip
    assert (await as_of(query_api, path, moved)).json()["client_id"] == second
    assert (await as_of(query_api, path, removed)).status_code == 404
    assert (await as_of(query_api, path, added - 1)).status_code == 404


async def test_an_order_line_history_is_its_own_events_only(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    product, order = await shop.product(stock=10), await shop.order()
    line = (await shop.line(order, product, 2)).json()["id_key"]
    await shop.line(order, product, 1)
    await command_api.put(f"/order_details/{line}", json={"quantity": 3})
    await command_api.delete(f"/order_details/{line}")
    await projected.catch_up()
    events = await history(query_api, f"/order_details/{line}")
    assert [(e["stream_id"], e["type"]) for e in events] == [
        (f"order-{order}", "OrderLineAdded"),
        (f"order-{order}", "OrderLineChanged"),
        (f"order-{order}", "OrderLineRemoved"),
    ]
    changed = events[1]["feed_position"]
    state = (await as_of(query_api, f"/order_details/{line}", changed)).json()
    assert (state["quantity"], state["order_id"]) == (3, order)


async def test_the_state_as_of_a_time_or_a_position_is_replayed_from_the_events(
    shop: Shop, command_api: httpx.AsyncClient, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    product = await shop.product(price=10.0)
    await command_api.put(f"/products/{product}", json={"price": 12.0})
    await command_api.delete(f"/products/{product}")
    await projected.catch_up()
    created, repriced, deactivated = await history(query_api, f"/products/{product}")
    path = f"/products/{product}"
    for point, price, active in ((created, 10.0, True), (repriced, 12.0, True),
                                 (deactivated, 12.0, False)):  # fmt: skip
        at = dt.datetime.fromisoformat(point["recorded_at"])
        naive_utc = at.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
        for cut in (point["feed_position"], at.isoformat(), naive_utc):
            response = await as_of(query_api, path, cut)
            assert response.status_code == 200, (cut, response.text)
            assert (response.json()["price"], response.json()["active"]) == (price, active), cut
            assert response.headers["x-read-source"] == "events"
    before = dt.datetime.fromisoformat(created["recorded_at"]) - dt.timedelta(microseconds=1)
    for cut in (before.isoformat(), created["feed_position"] - 1):
        gone = await as_of(query_api, path, cut)
        assert (gone.status_code, gone.json()["code"]) == (404, "not_found")
    for bad in ("yesterday", "-1", "2026-13-45"):
        refused = await as_of(query_api, path, bad)
        assert (refused.status_code, refused.json()["code"]) == (422, "invalid_as_of"), bad


async def test_the_global_feed_is_every_event_in_commit_order(
    shop: Shop, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    await shop.order()
    await shop.product()
    head = await projected.catch_up()
    first = (await query_api.get("/events?limit=3", headers=AUDIT)).json()
    rest = (await query_api.get("/events?after=3&limit=1000", headers=AUDIT)).json()
    assert [e["feed_position"] for e in first + rest] == list(range(1, head + 1))
    assert first[0]["type"] == "ClientCreated"
    assert (await query_api.get(f"/events?after={head}", headers=AUDIT)).json() == []
    for bad in ("limit=0", "limit=1001", "after=-1"):
        assert (await query_api.get(f"/events?{bad}", headers=AUDIT)).status_code == 422


async def test_verify_checks_the_chain_and_names_the_first_tampered_position(
    shop: Shop, projected: Projected, query_api: httpx.AsyncClient, database_url: str
) -> None:
    for n in range(3):
        await shop.category(f"Shelf {n}")
    head = await projected.catch_up()
    intact = await query_api.get("/audit/verify", headers=AUDIT)
    assert intact.json() == {"ok": True, "checked": head, "first_bad_position": None,
                             "problem": None}  # fmt: skip
    ranged = await query_api.get("/audit/verify?from=2&to=3", headers=AUDIT)
    assert (ranged.json()["ok"], ranged.json()["checked"]) == (True, 2)
    target = (await history(query_api, "/categories/2"))[0]["feed_position"]
    with psycopg.connect(database_url, autocommit=True) as conn:  # this test's own copy
        conn.execute("SET session_replication_role = replica")  # the append-only trigger sleeps
        conn.execute(
            "UPDATE events SET data = jsonb_set(data, '{name}', '\"Forged\"')"
            " WHERE stream_id = 'category-2' AND version = 1"
        )
    broken = (await query_api.get("/audit/verify", headers=AUDIT)).json()
    assert (broken["ok"], broken["first_bad_position"], broken["checked"]) == (
        False, target, target - 1,
    )  # fmt: skip
    assert "hash mismatch" in broken["problem"]
    before = await query_api.get(f"/audit/verify?to={target - 1}", headers=AUDIT)
    assert before.json()["ok"] is True

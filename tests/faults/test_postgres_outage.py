"""PostgreSQL stopped while the shop writes: every write is a 503 in the error shape (never a
500, never half a change), the query API serves what Redis holds and its health says that it
does; PostgreSQL back, the same writes (same keys) go through, with no service restarted."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import psycopg
import pytest

from loadtest import invariants
from loadtest.cluster import Cluster
from loadtest.ledger import Write
from tests.faults.conftest import ERROR_SHAPE, FULL, client, error_shape, traffic
from tests.projection import eventually

pytestmark = pytest.mark.faults


async def created(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> int:
    response = await api.post(path, json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id_key"])


async def a_shop(api: httpx.AsyncClient) -> dict[str, int]:
    """A category, a product, a client with a bill and an open order with a line."""
    n = uuid.uuid4().hex[:10]
    ids = {"category": await created(api, "/categories", {"name": f"PG {n}"})}
    product = {"name": "Kettle", "price": 20.0, "stock": 30, "category_id": ids["category"]}
    ids["product"] = await created(api, "/products", product)
    ids["client"] = await created(api, "/clients", {"name": "Pat", "email": f"pat-{n}@x.org"})
    for name in ("bill", "spare_bill"):
        bill = {"bill_number": f"{name}-{n}", "date": "2026-11-26", "total": 20.0,
                "payment_type": 2, "client_id": ids["client"]}  # fmt: skip
        ids[name] = await created(api, "/bills", bill)
    order = {"delivery_method": 1, "client_id": ids["client"], "bill_id": ids["bill"]}
    ids["order"] = await created(api, "/orders", order)
    line = {"order_id": ids["order"], "product_id": ids["product"], "quantity": 2}
    ids["line"] = await created(api, "/order_details", line)
    return ids


def writes_of(ids: dict[str, int]) -> list[Write]:
    """One of each kind: new streams, one stream, several streams at once (stock moves)."""
    n = uuid.uuid4().hex[:10]
    return [
        Write(str(uuid.uuid4()), method, path, body)
        for method, path, body in [
            ("POST", "/categories", {"name": f"Offline {n}"}),
            ("POST", "/products", {"name": "Mug", "price": 4.0, "stock": 9,
                                   "category_id": ids["category"]}),
            ("PUT", f"/products/{ids['product']}", {"stock": 40}),
            ("POST", "/orders", {"delivery_method": 2, "client_id": ids["client"],
                                 "bill_id": ids["spare_bill"]}),
            ("POST", "/order_details", {"order_id": ids["order"], "product_id": ids["product"],
                                        "quantity": 3}),
            ("PUT", f"/order_details/{ids['line']}", {"quantity": 5}),
            ("PUT", f"/orders/{ids['order']}", {"status": 3}),
        ]
    ]  # fmt: skip


async def events_of(database_url: str, keys: list[str]) -> int:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT count(*) FROM events WHERE metadata->>'idempotency_key' = ANY(%s)", (keys,)
        )
        row = await cur.fetchone()
    assert row is not None
    return int(row[0])


MODES = [pytest.param(False, id="fast"), pytest.param(True, id="crash")]


@pytest.mark.parametrize("immediate", MODES if FULL else MODES[:1])
async def test_without_postgresql_writes_are_503s_reads_come_from_redis_then_writes_resume(
    healed: Cluster, immediate: bool
) -> None:
    cluster = healed
    async with (
        client(cluster.command_url) as api,
        client(cluster.query_url) as reads,
    ):
        ids = await a_shop(api)
        await invariants.wait_caught_up(cluster.database_url, cluster.redis_url)
        shown = await reads.get(f"/products/{ids['product']}")
        pids = {name: service.pid for name, service in cluster.services.items()}
        workers = {p.pid for p in cluster.api_workers()}

        async with traffic(cluster, seed=31 + immediate) as shop:
            cluster.servers.stop_postgres(immediate=immediate)
            offline = writes_of(ids)
            answers = await asyncio.gather(*(
                api.request(w.method, w.path, json=w.body, headers={"Idempotency-Key": w.key})
                for w in offline
            ))  # fmt: skip
            for w, refused in zip(offline, answers, strict=True):
                assert refused.status_code == 503, (w.method, w.path, refused.text)
                assert error_shape(refused) == ERROR_SHAPE
                assert refused.json()["code"] == "store_unavailable"
                assert refused.headers["retry-after"] == "1"

            served = await reads.get(f"/products/{ids['product']}")
            assert (served.status_code, served.headers["x-read-source"]) == (200, "redis")
            assert served.content == shown.content
            health = await reads.get("/health_check")
            report = health.json()
            assert health.status_code == 200, report
            assert report["status"] == "degraded"
            assert report["checks"]["database"]["status"] == "down"
            assert report["checks"]["reads"]["sources"] == ["redis"]

            cluster.servers.start_postgres()  # and nothing else

            async def nothing_was_half_written() -> bool:
                return await events_of(cluster.database_url, [w.key for w in offline]) == 0

            await eventually(nothing_was_half_written, seconds=60)
            shop.shop.retry_for = 120  # the pools reconnect with a backoff
            for w in offline:  # the same requests, the same keys: now they go through
                shop.ledger.writes.append(w)
                await shop.shop.send(w)
                assert w.acknowledged, (w.method, w.path, w.status, w.code)

        assert {name: service.pid for name, service in cluster.services.items()} == pids
        assert {p.pid for p in cluster.api_workers()} == workers
        assert shop.tally.count("500") == 0
        assert shop.tally.count("503 store_unavailable") > 0
        once = await invariants.writes_are_exactly_once(
            cluster.database_url, shop.ledger.writes, every_keyed_write=False
        )
        assert once.passed, once.detail
        stock = await invariants.stock_is_conserved(cluster.database_url)
        assert stock.passed, stock.detail

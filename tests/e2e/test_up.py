"""`orders up` as a user runs it: the whole platform in one process tree, stopped by Ctrl-C.

The platform is `loadtest.platform.Platform` (the load test's and the benchmarks' launcher), on
its own embedded servers, with two workers per API: `/metrics` must add up across them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from loadtest.platform import Platform
from orders.signed_checkpoints.signing import Checkpoint, PublicKey

pytestmark = pytest.mark.e2e
ADMIN = {"Authorization": "Bearer admin-secret"}
AUDIT = {"Authorization": "Bearer audit-secret"}
ONE_PRODUCT = (
    "orders_http_request_duration_seconds_count"
    '{method="GET",route="/products/{id_key}",service="query-api",status="200"}'
)


def platform_on(data: Path) -> Platform:
    return Platform(
        data, workers=2, own_servers=True,
        extra_env={"ORDERS_AUDIT_TOKEN": "audit-secret", "ORDERS_ADMIN_TOKEN": "admin-secret"},
    )  # fmt: skip


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"
    if (tmp_path / "data").exists():  # its own embedded servers, should a failure leave them up
        platform_on(tmp_path / "data").orders("servers", "stop")


def metric(api: httpx.Client, series: str) -> float:
    text = api.get("/metrics").text
    values = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
              if line.startswith(series)]  # fmt: skip
    assert values, f"{series} not in /metrics"
    return sum(values)


def until(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def noise(platform: Platform) -> list[str]:
    """What a clean Ctrl-C prints none of: tracebacks, libraries' warnings."""
    log = platform.log.read_text(errors="replace")
    return [word for word in ("Traceback", "Warning") if word in log]


def rebuilt(reads: httpx.Client, location: str) -> bool:
    body: dict[str, Any] = reads.get(location, headers=ADMIN).json()
    assert body["status"] != "failed", body["error"]
    return body["status"] == "finished"


def assert_the_head_is_signed(reads: httpx.Client) -> None:
    """The checkpoints' signer runs too: the feed head signed, served with the key to check it."""
    until(lambda: reads.get("/audit/checkpoints/latest", headers=AUDIT).status_code == 200)
    checkpoint = reads.get("/audit/checkpoints/latest", headers=AUDIT).json()
    key = PublicKey.model_validate(reads.get("/audit/checkpoints/public-key", headers=AUDIT).json())
    assert key.verifies(Checkpoint.model_validate(checkpoint))


def test_the_platform_runs_the_order_flow_stops_cleanly_and_keeps_its_data(data: Path) -> None:
    platform = platform_on(data)
    platform.start(timeout=90)
    api = httpx.Client(base_url=platform.command_url, timeout=10)
    reads = httpx.Client(base_url=platform.query_url, timeout=10)
    with api, reads:  # closed even when an assertion fails: no socket left to a later test
        category = api.post("/categories", json={"name": "Books"}).json()["id_key"]
        product = api.post(
            "/products", json={"name": "Dune", "price": 9.5, "stock": 10, "category_id": category}
        ).json()["id_key"]
        ada = {"name": "Ada", "email": "ada@example.com"}
        client = api.post("/clients", json=ada).json()["id_key"]
        bill_body = {"bill_number": "B1", "date": "2026-11-26", "total": 9.5, "payment_type": 2}
        bill = api.post("/bills", json={**bill_body, "client_id": client}).json()["id_key"]
        order = api.post(
            "/orders", json={"delivery_method": 3, "client_id": client, "bill_id": bill}
        )
        line = api.post("/order_details", json={"order_id": order.json()["id_key"],
                                               "product_id": product, "quantity": 1})  # fmt: skip
        assert line.status_code == 201
        token = line.headers["x-consistency-token"]
        read = reads.get(f"/products/{product}", headers={"X-Consistency-Token": token})
        assert (read.status_code, read.json()["stock"]) == (200, 9)

        # /metrics: the two workers' counts add up; the hot path's reads under their template
        before = metric(reads, ONE_PRODUCT)
        for _ in range(6):
            assert reads.get(f"/products/{product}").status_code == 200
        assert metric(reads, ONE_PRODUCT) - before == 6
        assert metric(api, 'orders_appends_total{outcome="ok"}') >= 6
        until(lambda: metric(reads, 'orders_projection_lag_events{projection="products"}') == 0)

        # an operator's rebuild over HTTP, run by the platform's projector worker
        queued = reads.post("/admin/projections/rebuilds", json={"projections": ["products"]},
                            headers=ADMIN)  # fmt: skip
        assert queued.status_code == 202, queued.text
        location = queued.headers["location"]
        until(lambda: rebuilt(reads, location))
        status = reads.get("/admin/projections", headers=ADMIN).json()
        products = next(p for p in status["projections"] if p["name"] == "products")
        assert products["generation"] == 2
        assert reads.get(f"/products/{product}").json()["stock"] == 9

        assert_the_head_is_signed(reads)

        assert platform.process is not None
        children = psutil.Process(platform.process.pid).children(recursive=True)
        assert len(children) >= 3
    # stopped by Ctrl-C, cleanly
    assert (platform.stop(), noise(platform)) == (0, []), platform.log_tail()
    time.sleep(0.5)
    survivors = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert survivors == []

    again = platform_on(data)
    try:
        again.start(timeout=90)
        with httpx.Client(base_url=again.query_url, timeout=10) as reads_again:
            deadline = time.monotonic() + 10
            while (response := reads_again.get(f"/products/{product}")).status_code != 200:
                assert time.monotonic() < deadline, response.text
                time.sleep(0.2)
            assert response.json()["stock"] == 9
    finally:
        assert again.stop() == 0, again.log_tail()

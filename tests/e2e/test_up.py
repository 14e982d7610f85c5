"""`orders up` as a user runs it: the whole platform in one process tree, stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Platform:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.command_port, self.query_port = free_port(), free_port()
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("DATABASE_", "REDIS_", "POSTGRES_", "ORDERS_"))}  # fmt: skip
        env |= {
            "ORDERS_DATA_DIR": str(data), "ORDERS_COMMAND_PORT": str(self.command_port),
            "ORDERS_QUERY_PORT": str(self.query_port), "RATE_LIMIT_ENABLED": "false",
            "ORDERS_AUDIT_TOKEN": "audit-secret", "LOG_LEVEL": "WARNING",
        }  # fmt: skip
        self.log = (data.parent / f"up-{self.command_port}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "orders.cli", "up"], cwd=ROOT, env=env,
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.command = httpx.Client(base_url=f"http://127.0.0.1:{self.command_port}", timeout=10)
        self.query = httpx.Client(base_url=f"http://127.0.0.1:{self.query_port}", timeout=10)

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, Path(self.log.name).read_text()
            try:
                if (
                    self.command.get("/health_check").status_code == 200
                    and self.query.get("/health_check").status_code == 200
                ):
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        pytest.fail("the platform did not become healthy:\n" + Path(self.log.name).read_text())

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children(recursive=True)

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(60) == 0, Path(self.log.name).read_text()
        self.command.close()
        self.query.close()
        self.log.close()


@pytest.fixture
def data(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "data"
    subprocess.run(  # the test's own embedded servers, should a failure have left them running
        [sys.executable, "-m", "orders.cli", "servers", "stop"], cwd=ROOT, check=False,
        env={**os.environ, "ORDERS_DATA_DIR": str(tmp_path / "data")}, capture_output=True,
    )  # fmt: skip


def test_the_platform_runs_the_order_flow_stops_cleanly_and_keeps_its_data(data: Path) -> None:
    platform = Platform(data)
    platform.wait_healthy()
    api = platform.command
    category = api.post("/categories", json={"name": "Books"}).json()["id_key"]
    product = api.post(
        "/products", json={"name": "Dune", "price": 9.5, "stock": 10, "category_id": category}
    ).json()["id_key"]
    ada = {"name": "Ada", "email": "ada@example.com"}
    client = api.post("/clients", json=ada).json()["id_key"]
    bill_body = {"bill_number": "B1", "date": "2026-11-26", "total": 9.5, "payment_type": 2}
    bill = api.post("/bills", json={**bill_body, "client_id": client}).json()["id_key"]
    order = api.post("/orders", json={"delivery_method": 3, "client_id": client, "bill_id": bill})
    line = api.post("/order_details", json={"order_id": order.json()["id_key"],
                                           "product_id": product, "quantity": 1})  # fmt: skip
    assert line.status_code == 201
    token = line.headers["x-consistency-token"]
    read = platform.query.get(f"/products/{product}", headers={"X-Consistency-Token": token})
    assert (read.status_code, read.json()["stock"]) == (200, 9)

    children = platform.descendants()
    assert len(children) >= 3
    platform.interrupt()
    time.sleep(0.5)
    survivors = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert survivors == []

    again = Platform(data)
    try:
        again.wait_healthy()
        deadline = time.monotonic() + 10
        while (response := again.query.get(f"/products/{product}")).status_code != 200:
            assert time.monotonic() < deadline, response.text
            time.sleep(0.2)
        assert response.json()["stock"] == 9
    finally:
        again.interrupt()

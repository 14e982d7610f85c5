"""The fault tests' platform: one `loadtest.cluster.Cluster` for the session (its services and
embedded servers are processes the tests kill, stop and start by PID), in a data folder of its
own beside the suite's: the suite's shared servers are never touched.

The short set runs in `make test`; `ORDERS_FAULTS=full` (what `make faults` sets) runs every
fault more times and the soak longer (`rounds`). Each test starts and ends with the cluster
healed: both servers up, every service running and healthy.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from loadtest.cluster import Cluster
from loadtest.ledger import Ledger, Tally
from loadtest.traffic import Catalogue, Shop, resolve, run_shoppers
from tests.conftest import TEST_DATA

FULL = os.environ.get("ORDERS_FAULTS", "short") == "full"


def rounds(short: int, full: int) -> int:
    return full if FULL else short


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """Deleted at the end; kept (its services' logs, its servers' data) when a test failed."""
    yield from running(request, "faults")


def running(request: pytest.FixtureRequest, name: str, **options: Any) -> Iterator[Cluster]:
    """A fresh cluster in a folder of its own (`name`), started; at the end deleted, or kept
    for its logs and data when a test failed."""
    # small projector batches, so that a kill lands in the middle of a catch-up
    c = Cluster(
        Path(f"{TEST_DATA}-{name}-{os.getpid()}"), extra_env={"ORDERS_PROJECTOR_BATCH": "25"},
        **options,
    )  # fmt: skip
    c.wipe()
    try:
        c.start()
        yield c
    finally:
        if request.session.testsfailed:
            c.stop(abrupt=True)
            print(f"\n{name} tests failed: the cluster's logs and data are in {c.data_dir}")  # noqa: T201
        else:
            c.wipe()


@pytest.fixture
def healed(cluster: Cluster) -> Iterator[Cluster]:
    """The cluster healed before the test and after it, when no service may have exited on
    its own (the faults restart what they kill)."""
    cluster.heal()
    yield cluster
    assert cluster.heal() == []


@dataclass
class Background:
    """Traffic running beside a test, and a shop of the same catalogue for its own requests."""

    tally: Tally
    ledger: Ledger
    catalogue: Catalogue
    shop: Shop


@asynccontextmanager
async def traffic(
    cluster: Cluster, *, shoppers: int = 2, seed: int = 1
) -> AsyncIterator[Background]:
    """The original's flows from `shoppers` clients until the block ends; then every write left
    unanswered by a fault is sent again (same key) until answered."""
    rng = random.Random(seed)
    tally, ledger, catalogue = Tally(), Ledger(), Catalogue()
    shops = [
        Shop(cluster.command_url, cluster.query_url, rng=random.Random(rng.random()),
             tally=tally, ledger=ledger, catalogue=catalogue)
        for _ in range(shoppers + 1)
    ]  # fmt: skip
    for _ in range(8):  # a catalogue to shop from before any fault
        await shops[0].step()
    stop = asyncio.Event()
    running = asyncio.create_task(run_shoppers(shops[1:], stop))
    try:
        yield Background(tally, ledger, catalogue, shops[0])
    finally:
        stop.set()
        await running
        exited = await asyncio.to_thread(cluster.heal)
        unanswered = await resolve(shops[0])
        for shop in shops:
            await shop.aclose()
    assert exited == []
    assert unanswered == [], f"{len(unanswered)} writes never got an answer"


async def steps(background: Background, n: int) -> None:
    """`n` flows of the test's own, beside the background traffic."""
    for _ in range(n):
        await background.shop.step()


def client(base_url: str) -> httpx.AsyncClient:
    """An HTTP client of one API whose every request comes "through" the trusted proxy from an
    address of its own, as the traffic's do: the rate limiter counts it and never refuses it."""

    async def from_anywhere(request: httpx.Request) -> None:
        n = random.getrandbits(24)
        request.headers.setdefault("X-Forwarded-For", f"10.{n >> 16}.{n >> 8 & 255}.{n & 255}")

    return httpx.AsyncClient(
        base_url=base_url, timeout=15, event_hooks={"request": [from_anywhere]}
    )


def error_shape(response: httpx.Response) -> set[str]:
    return set(response.json()) - {"error_id", "retry_after"}


ERROR_SHAPE = {"detail", "code", "request_id"}

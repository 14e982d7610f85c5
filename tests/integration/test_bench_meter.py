"""The capacity model's meter against real servers: what a step of appends cost (events, WAL,
CPU), and a settled reading that waits for the projections rather than reading too early."""

from __future__ import annotations

import asyncio

import pytest

from eventstore import EventStore, Expect, NewEvent, StreamAppend
from loadtest.meter import Meter
from orders.embedded import Endpoints
from projector import live
from projector.engine import Engine
from tests.conftest import TEST_DATA
from tests.shop import Shop

APPENDS = 300  # enough PostgreSQL CPU to show at the kernel's 10 ms tick, whatever the timing


async def test_a_step_of_appends_costs_one_event_each_and_some_wal(
    store: EventStore, database_url: str, servers: Endpoints
) -> None:
    async with Meter(None, TEST_DATA.resolve(), database_url) as meter:
        before = await meter.reading()
        for n in range(APPENDS):
            event = NewEvent("StockReserved", {"product_id": 1, "n": n})
            await store.append([StreamAppend(f"meter-{n}", Expect.NO_STREAM, [event])])
        await store.sequence()
        cost = await meter.cost(before, APPENDS)
    assert cost.events == 1.0
    # an event row, its feed row and their index entries: at least the payload's size each
    assert cost.wal_bytes > len('{"product_id": 1, "n": 0}')
    assert cost.driver_ms > 0  # this process appended and sequenced
    if servers.embedded_postgres:  # configured servers are not this data folder's processes
        assert cost.cpu_ms["postgresql"] > 0
        # the backends that served the appends are told apart by their application's name
        assert cost.postgresql_for["orders"] > 0
        assert sum(cost.postgresql_for.values()) == pytest.approx(cost.cpu_ms["postgresql"])
    assert set(cost.cpu_ms) == {"command-api", "query-api", "projector", "postgresql", "redis"}
    assert cost.cpu_ms["command-api"] == 0  # no `orders up` root: no services counted


async def test_a_settled_reading_waits_until_every_projection_has_the_head(
    shop: Shop, engine: Engine, database_url: str
) -> None:
    await shop.order()  # a category-free chain: client, bill, order
    async with Meter(None, TEST_DATA.resolve(), database_url) as meter:
        settled = asyncio.create_task(meter.reading(settle=True))
        await asyncio.sleep(1.0)
        assert not settled.done()  # the events are not even sequenced: nobody follows yet
        await live.follow(engine)
        reading = await asyncio.wait_for(settled, 10)
    assert reading.head == (await engine.store.feed_head()).position > 0

"""A rebuild switches before Redis holds the new generation, then loads it there under a lease
(`projector.warming`): readers go to PostgreSQL meanwhile, the live runner leaves the generation
alone while the lease holds, and takes it over (reloading it) once a dead rebuild's lease
expires."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from eventstore import StoreUnavailableError
from projector import live, pg_sink, rebuild, warming
from projector.engine import Engine
from projector.redis_sink import LeaseLostError
from readmodels.keys import warming_key
from readmodels.schema import PROJECTIONS, applied_key, live_generation_key
from tests.projection import Scenario, live_generations, postgres_docs, redis_docs
from tests.shop import Shop

ORDERS = next(p for p in PROJECTIONS if p.name == "orders")

Load = Callable[[Engine, Any, warming.Warming], Awaitable[bool]]


def _before_each_load(
    monkeypatch: pytest.MonkeyPatch, first: Callable[[], Awaitable[None]]
) -> None:
    """Run `first` where the rebuild is about to load Redis, then the load itself."""
    load: Load = warming._load

    async def load_after(engine: Engine, sink: Any, w: warming.Warming) -> bool:
        await first()
        return await load(engine, sink, w)

    monkeypatch.setattr(warming, "_load", load_after)


async def _projected(shop: Shop, engine: Engine) -> tuple[Scenario, Redis]:
    """A shop's story, projected live."""
    scenario = Scenario(shop)
    await scenario.everything(2)
    await live.follow(engine)
    assert engine.redis is not None
    return scenario, engine.redis


async def test_readers_go_to_postgresql_until_the_rebuild_has_loaded_redis(
    shop: Shop, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario, redis = await _projected(shop, engine)
    seen: dict[str, Any] = {}

    async def while_switched() -> None:
        """Switched, Redis not loaded yet: then writes come, and the live runner follows."""
        seen["live"] = await redis.get(live_generation_key("orders"))
        seen["applied"] = await redis.get(applied_key("orders", 2))
        seen["lease"] = await redis.get(warming_key("orders", 2))
        seen["old"] = await redis.keys("rm:{orders:g1}:*")
        await scenario.round()
        await live.follow(engine)
        seen["docs"] = await redis.hlen(f"{ORDERS.tables[0].redis_prefix(2)}docs")
        seen["written"] = await postgres_docs(engine.store)

    _before_each_load(monkeypatch, while_switched)

    (rebuilt,) = await rebuild.rebuild(engine, [ORDERS], progress=False)

    # readers were pointed at a generation with no applied position (they read PostgreSQL)...
    assert seen["live"] == b"2"
    assert seen["applied"] is None
    assert seen["lease"] is not None
    assert seen["old"] == []  # ...and the old one was gone from Redis
    # the live runner wrote PostgreSQL only, and did not reload the generation it leased
    assert seen["docs"] == 0
    assert seen["written"] == await scenario.expected()
    assert rebuilt.redis_switched
    assert rebuilt.redis_warmed
    assert rebuilt.dropped_seconds <= rebuilt.warmed_seconds
    assert await redis.get(warming_key("orders", 2)) is None  # the lease let go
    # loaded as of the snapshot it read, before the live runner's catch-up brings the rest
    assert int(await redis.get(applied_key("orders", 2)) or 0) >= rebuilt.position

    await live.follow(engine)

    assert await redis_docs(redis) == await scenario.expected()
    assert (
        await redis.get(applied_key("orders", 2))
        == str((await engine.store.feed_status()).head).encode()
    )


class Killed(Exception):  # noqa: N818 - it stands for the signal
    pass


@pytest.mark.parametrize("failure", ["killed", "postgresql down"])
async def test_a_rebuild_whose_redis_load_fails_leaves_it_to_the_live_runner(
    shop: Shop, engine: Engine, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """Killed: the rebuild dies with its lease held. PostgreSQL down: the rebuild lets the load
    go and returns (the projection is switched either way)."""
    scenario, redis = await _projected(shop, engine)
    monkeypatch.setattr(warming, "LEASE_MILLISECONDS", 500)

    async def fails() -> None:
        raise Killed if failure == "killed" else StoreUnavailableError("the test's outage")

    _before_each_load(monkeypatch, fails)
    if failure == "killed":
        with pytest.raises(Killed):
            await rebuild.rebuild(engine, [ORDERS], progress=False)
    else:
        (rebuilt,) = await rebuild.rebuild(engine, [ORDERS], progress=False)
        assert rebuilt.redis_switched
        assert not rebuilt.redis_warmed
    assert (await live_generations(engine.store))["orders"] == 2
    await scenario.round()

    await live.follow(engine)  # the lease still holds: PostgreSQL only
    assert await redis.get(applied_key("orders", 2)) is None
    assert await postgres_docs(engine.store) == await scenario.expected()
    await asyncio.sleep(0.6)
    await live.follow(engine)  # the lease expired: the live runner reloads the generation

    assert await redis.get(warming_key("orders", 2)) is None
    assert await redis_docs(redis) == await scenario.expected()


async def test_a_load_whose_lease_expired_writes_nothing(shop: Shop, engine: Engine) -> None:
    scenario = Scenario(shop)
    await scenario.round()
    await live.follow(engine)
    sink = engine.sink
    assert sink is not None
    assert engine.redis is not None
    await sink.drop([(ORDERS, 7)])
    lease = await sink.take_lease(ORDERS, 7, "a-token", 100)
    rows = [row async for row in _rows(engine)]
    assert rows
    await sink.load(7, ORDERS.tables[0], rows[:1], lease=lease)  # held: written
    assert await engine.redis.hlen(f"{ORDERS.tables[0].redis_prefix(7)}docs") == 1
    await asyncio.sleep(0.2)

    assert not await sink.renew(lease, 1000)
    with pytest.raises(LeaseLostError):
        await sink.load(7, ORDERS.tables[0], rows, lease=lease)
    assert not await sink.mark_applied_under(lease, ORDERS, 7, 1)

    assert await engine.redis.hlen(f"{ORDERS.tables[0].redis_prefix(7)}docs") == 1
    assert await engine.redis.get(applied_key("orders", 7)) is None
    await sink.drop([(ORDERS, 7)])


async def _rows(engine: Engine) -> Any:
    async with engine.store.connection() as conn, conn.transaction():
        async for rows in pg_sink.read_generation(conn, ORDERS.tables[0], 1):
            for row in rows:
                yield row

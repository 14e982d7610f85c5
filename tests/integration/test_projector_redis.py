"""Redis flushed or down: the PostgreSQL read models stay current, and the Redis documents come
back from them once Redis answers again (repopulated by the next catch-up, i.e. the sweep)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import psycopg
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from command_api.app import create_app
from eventstore import EventStoreError
from orders.embedded import _redis_binary
from orders.settings import Settings
from projector import live
from projector.engine import Engine, open_engine
from readmodels.keys import generation_prefix, writing_key
from readmodels.schema import PROJECTIONS, applied_key
from tests.keys import MASTER
from tests.projection import (
    Process,
    Scenario,
    eventually,
    postgres_docs,
    redis_docs,
    worker_env,
)
from tests.shop import Shop


async def test_a_flushed_redis_is_repopulated_from_postgresql(shop: Shop, engine: Engine) -> None:
    scenario = Scenario(shop)
    await scenario.round()
    await live.follow(engine)
    assert engine.redis is not None
    await engine.redis.flushdb()
    await scenario.round()

    await live.follow(engine)

    expected = await scenario.expected()
    assert await postgres_docs(engine.store) == expected
    assert await redis_docs(engine.redis) == expected
    for projection in PROJECTIONS:
        assert await engine.redis.get(applied_key(projection.name, 1)) is not None


async def test_redis_that_lost_a_generation_is_not_read_until_reloaded(
    shop: Shop, engine: Engine
) -> None:
    """The reload drops the applied position first: readers go to PostgreSQL meanwhile."""
    scenario = Scenario(shop)
    await scenario.round()
    await live.follow(engine)
    assert engine.redis is not None
    products = PROJECTIONS[1]
    await engine.redis.hdel(f"{products.tables[0].redis_prefix(1)}docs", "1")  # lost one...
    await engine.redis.delete(applied_key(products.name, 1))  # ...and its applied position

    await live.follow(engine)

    assert await redis_docs(engine.redis) == await scenario.expected()


@pytest.fixture
def own_redis(tmp_path: Path) -> object:
    """A Redis server of the test's own, to stop and start again (no persistence: it comes back
    empty, as a restarted cache would)."""
    socket = tmp_path / "redis.sock"

    class OwnRedis:
        url = f"unix://{socket}"
        process: Process | None = None

        def start(self) -> None:
            argv = [str(_redis_binary()), "--port", "0", "--unixsocket", str(socket),
                    "--save", "", "--appendonly", "no"]  # fmt: skip
            self.process = Process(argv, {}, tmp_path / "redis.log")

        def stop(self) -> None:
            if self.process is not None:
                self.process.kill()
                self.process = None

    server = OwnRedis()
    server.start()
    yield server
    server.stop()


async def test_a_generation_written_in_the_older_layout_is_reloaded_and_its_keys_removed(
    shop: Shop, engine: Engine
) -> None:
    """Layout 1 (a key per document, a sorted set per index value, an unversioned applied
    position) is never read: the generation is reloaded, and its old keys go."""
    scenario = Scenario(shop)
    await scenario.round()
    await live.follow(engine)
    assert engine.redis is not None
    products = next(p for p in PROJECTIONS if p.name == "products")
    prefix = products.tables[0].redis_prefix(1)
    legacy = [
        f"{prefix}doc:1",
        f"{prefix}idx:all",
        f"{prefix}idx:active=1",
        f"{generation_prefix(products.name, 1)}applied",
    ]
    await engine.redis.set(legacy[0], b'{"id_key":1,"name":"layout 1"}')
    await engine.redis.zadd(legacy[1], {"1": 1})
    await engine.redis.zadd(legacy[2], {"1": 1})
    await engine.redis.set(legacy[3], 10**6)
    await engine.redis.delete(applied_key(products.name, 1))  # as layout 1 had no such key

    await live.follow(engine)

    assert await engine.redis.exists(*legacy) == 0
    assert await engine.redis.get(applied_key(products.name, 1)) is not None
    assert await redis_docs(engine.redis) == await scenario.expected()


async def test_writes_made_while_redis_is_down_reach_postgresql_then_redis_when_it_is_back(
    database_url: str, own_redis: object, tmp_path: Path
) -> None:
    redis_url: str = own_redis.url  # type: ignore[attr-defined]
    await eventually(lambda: _answers(redis_url), seconds=5)
    app = create_app(Settings(RATE_LIMIT_ENABLED="false"), database_url, redis_url)
    worker = Process(
        [sys.executable, "-m", "launch.cli", "projector"],
        worker_env(database_url, redis_url),
        tmp_path / "worker.log",
    )
    engine = await open_engine(database_url, redis_url, master=MASTER)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
            async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
                scenario = Scenario(Shop(client))
                await scenario.round()
                await eventually(lambda: _both_current(engine, scenario))

                own_redis.stop()  # type: ignore[attr-defined]
                await scenario.round()  # the wake-ups are lost: the sweep goes on without Redis
                await eventually(lambda: _postgres_current(engine, scenario))

                own_redis.start()  # type: ignore[attr-defined]
                await eventually(lambda: _both_current(engine, scenario), seconds=20)
    except AssertionError:
        print(worker.output())  # noqa: T201
        raise
    finally:
        worker.stop()
        await engine.close()


async def _answers(url: str) -> bool:
    redis = Redis.from_url(url)
    try:
        return bool(await redis.ping())
    except (RedisError, OSError) as e:
        raise AssertionError(f"redis not up yet: {e}") from e
    finally:
        await redis.aclose()


async def _postgres_current(engine: Engine, scenario: Scenario) -> bool:
    assert await postgres_docs(engine.store) == await scenario.expected()
    return True


async def _both_current(engine: Engine, scenario: Scenario) -> bool:
    assert engine.redis is not None
    expected = await scenario.expected()
    assert await postgres_docs(engine.store) == expected
    assert await redis_docs(engine.redis) == expected
    return True


async def test_redis_ahead_of_postgresql_is_replaced_by_what_postgresql_holds(
    shop: Shop, engine: Engine
) -> None:
    """As when PostgreSQL was restored and Redis was not: Redis speaks of a feed that is gone."""
    scenario = Scenario(shop)
    await scenario.round()
    await live.follow(engine)
    assert engine.redis is not None
    docs = f"{PROJECTIONS[0].tables[0].redis_prefix(1)}docs"
    await engine.redis.hset(docs, "999", b'{"id_key":999,"name":"from another life"}')
    await engine.redis.hset(f"{PROJECTIONS[0].tables[0].redis_prefix(1)}pos", "999", 10**9)
    for projection in PROJECTIONS:
        await engine.redis.set(applied_key(projection.name, 1), 10**9)

    await live.follow(engine)

    head = (await engine.store.feed_status()).head
    for projection in PROJECTIONS:
        assert await engine.redis.get(applied_key(projection.name, 1)) == str(head).encode()
    assert await engine.redis.hget(docs, "999") is None
    assert await redis_docs(engine.redis) == await scenario.expected()


async def test_a_batch_postgresql_refused_leaves_redis_nothing_that_a_later_cut_would_miss(
    shop: Shop, engine: Engine, database_url: str
) -> None:
    """PostgreSQL refuses a batch's commit (an outage, a kill): Redis gets none of its
    documents. Written beside the commit, a line added in that batch and removed again after it
    stayed in Redis for good: the next run, cut at other positions, saw it neither before nor
    after, so it wrote nothing about it (a soak run's read models differed from a rebuild)."""
    scenario = Scenario(shop)
    await scenario.round()
    await live.follow(engine)
    assert engine.redis is not None
    order, product = await shop.order(), await shop.product(stock=5)
    added = await shop.line(order, product, 2)
    assert added.status_code == 201, added.text
    line = int(added.json()["id_key"])
    await engine.store.sequence()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(REFUSE_CHECKPOINTS)
        with pytest.raises(EventStoreError, match="refused by the test"):
            await live.catch_up(engine)
        # nothing of the refused batch in Redis: not the line, nor its order's other documents
        details = PROJECTIONS[4].tables[1]
        assert details.name == "order_details"
        assert await engine.redis.hget(f"{details.redis_prefix(1)}docs", str(line)) is None
        conn.execute("DROP TRIGGER refuse ON projection_checkpoints")
    removed = await shop.api.delete(f"/order_details/{line}")
    assert removed.status_code == 204, removed.text

    await live.follow(engine)

    assert await redis_docs(engine.redis) == await postgres_docs(engine.store)
    assert line not in (await redis_docs(engine.redis))["order_details"]


# A failure at the end of a batch's PostgreSQL transaction, where an outage would cut it.
REFUSE_CHECKPOINTS = """
CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
CREATE TRIGGER refuse BEFORE UPDATE ON projection_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION refuse();
"""


async def test_a_batch_redis_got_only_part_of_is_replayed_with_the_same_cut(
    shop: Shop, engine: Engine, database_url: str
) -> None:
    """Redis holds documents of a batch it never marked applied (it failed half-way, or the
    projector was killed), and PostgreSQL went on without it. The replay from Redis's applied
    position stops where that batch ended (`writing_key`), so a line the batch added and a later
    one removed is removed from Redis too: replayed in one cut, the line would be in neither
    end's documents and stay in Redis for good."""
    scenario = Scenario(shop)
    await scenario.round()
    await live.follow(engine)
    assert engine.redis is not None
    applied = (await engine.store.feed_status()).head
    order, product = await shop.order(), await shop.product(stock=5)
    added = await shop.line(order, product, 2)
    assert added.status_code == 201, added.text
    line = int(added.json()["id_key"])
    await live.follow(engine)  # the batch that added the line, sent to Redis...
    sent = (await engine.store.feed_status()).head
    # the batch's end recorded with the documents it sent the orders projection...
    assert await engine.redis.get(writing_key("orders", 1)) == str(sent).encode()
    for projection in PROJECTIONS:  # ...and not marked applied anywhere
        await engine.redis.set(applied_key(projection.name, 1), applied)
    removed = await shop.api.delete(f"/order_details/{line}")
    assert removed.status_code == 204, removed.text
    postgres_only = await open_engine(database_url, None, master=MASTER)
    try:
        await live.follow(postgres_only)
    finally:
        await postgres_only.close()

    await live.follow(engine)

    assert line not in (await redis_docs(engine.redis))["order_details"]
    assert await redis_docs(engine.redis) == await postgres_docs(engine.store)

"""The projector following the feed: every write lands in both read models, byte for byte
what the command API answered."""

from __future__ import annotations

import orjson
import psycopg
import pytest

from domain import codec
from domain.events import Event
from domain.product import StockAdjusted
from eventstore import Expect, NewEvent, StreamAppend
from projector import live
from projector.engine import Engine
from tests.projection import (
    Scenario,
    postgres_docs,
    redis_docs,
)
from tests.shop import Shop


async def test_every_write_lands_in_both_read_models_as_the_api_answered(
    shop: Shop, engine: Engine
) -> None:
    scenario = Scenario(shop)
    await scenario.everything()
    await live.follow(engine)
    expected = await scenario.expected()
    assert engine.redis is not None
    assert await postgres_docs(engine.store) == expected
    assert await redis_docs(engine.redis) == expected


async def test_catching_up_in_many_small_steps_ends_where_one_big_step_does(
    shop: Shop, engine: Engine
) -> None:
    scenario = Scenario(shop)
    engine.live_batch = 3  # streams straddle batches; documents change between them
    for _ in range(2):
        await scenario.round()
        await live.follow(engine)
    expected = await scenario.expected()
    assert engine.redis is not None
    assert await postgres_docs(engine.store) == expected
    assert await redis_docs(engine.redis) == expected


async def _append_late(store_url: str, stream: str, first: Event, second: Event) -> None:
    """Two appends to one stream whose versions reach the feed in reverse order: the second
    append's transaction takes its id first (as one that locked another stream, or an
    idempotency key, before waiting for this one) and commits last."""
    from eventstore import _append  # noqa: PLC0415 - a test reaching under the store's API

    def new(event: Event) -> NewEvent:
        type_name, version, data = codec.encode(event)
        return NewEvent(type_name, data, version)

    async with (
        await psycopg.AsyncConnection.connect(store_url) as early,
        await psycopg.AsyncConnection.connect(store_url, autocommit=True) as late,
    ):
        await early.execute("SELECT pg_current_xact_id()")  # the lower transaction id
        await _append.append(late, [StreamAppend(stream, Expect.ANY, [new(first)])])
        await _append.append(early, [StreamAppend(stream, Expect.ANY, [new(second)])])
        await early.commit()


@pytest.mark.parametrize("batch", [1, 1000])
async def test_a_stream_whose_versions_reach_the_feed_out_of_order_is_projected_whole(
    database_url: str, shop: Shop, engine: Engine, batch: int
) -> None:
    product = await shop.product(stock=10)
    await live.follow(engine)
    engine.live_batch = batch
    await _append_late(
        database_url,
        f"product-{product}",
        StockAdjusted(product, 20, 10),
        StockAdjusted(product, 30, 10),
    )
    await engine.store.sequence()
    feed = await engine.store.read_feed(0, 1000)
    assert [e.data["stock"] for e in feed if e.type == "StockAdjusted"] == [30, 20]  # v3 then v2

    await live.follow(engine)

    docs = await postgres_docs(engine.store)
    assert orjson.loads(docs["products"][product])["stock"] == 30
    assert engine.redis is not None
    assert (await redis_docs(engine.redis))["products"][product] == docs["products"][product]

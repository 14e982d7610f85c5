"""The folded streams the runner keeps: a cache that stands at one feed position, and streams
whose versions reach the feed out of order."""

from __future__ import annotations

from decimal import Decimal

from domain.product import ProductCreated, StockAdjusted
from projector.changes import initial
from projector.feed import FeedEvent
from projector.states import StreamCache, advance
from readmodels.schema import PROJECTIONS


def test_the_stream_cache_forgets_what_it_held_when_asked_to_stand_elsewhere() -> None:
    cache = StreamCache(capacity=2)
    cache.align(0)
    folded = initial(PROJECTIONS[0])
    for stream in ("category-1", "category-2", "category-3"):
        cache.put(stream, folded)

    assert cache.get("category-1") is None  # least recently used, evicted
    assert cache.get("category-3") is folded
    assert not cache.complete  # it evicted: a missing stream may exist after all
    cache.align(0)
    assert len(cache) == 2  # same position: kept
    cache.align(7)
    assert len(cache) == 0


def _feed(position: int, stream: str, version: int, event: object) -> FeedEvent:
    return FeedEvent(position, stream, stream.split("-", maxsplit=1)[0], version, event)  # type: ignore[arg-type]


async def test_versions_of_a_stream_that_reach_the_feed_out_of_order_are_folded_in_order() -> None:
    products = PROJECTIONS[1]
    cache = StreamCache(capacity=10)
    created = ProductCreated(4, "Pen", Decimal("1.50"), 10, 1)
    batch = [
        _feed(1, "product-4", 1, created),
        _feed(2, "product-4", 3, StockAdjusted(4, 30, 10)),  # version 3 first...
        _feed(3, "product-4", 2, StockAdjusted(4, 20, 10)),  # ...then version 2
    ]

    changes = await advance(None, products, cache, batch, start=0, end=3)  # type: ignore[arg-type]

    assert [(c.id_key, c.document and c.document["stock"], c.position) for c in changes] == [
        (4, 30, 3)
    ]
    late = [_feed(4, "product-4", 2, StockAdjusted(4, 20, 10))]  # a replayed straggler
    assert await advance(None, products, cache, late, start=3, end=4) == []  # type: ignore[arg-type]

"""A poison event stalls only its projection: an event one projection cannot apply stops that
projection just before it (live and in a rebuild), the others go on, every status surface names
it, and once the projection is fixed it resumes from that event and ends where a fresh rebuild
does."""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from domain import codec
from domain.catalogue import DECIDERS
from domain.product import ProductCreated
from eventstore import Expect, NewEvent, StreamAppend
from projector import changes, live, rebuild
from projector.engine import Engine, open_engine
from projector.errors import RebuildError
from readmodels.schema import PROJECTIONS
from readmodels.status import ProjectionStatus, read_status
from tests.conftest import TEST_DATA
from tests.keys import MASTER
from tests.projection import postgres_docs, redis_docs, worker_env
from tests.query import Projected, query_client, query_settings
from tests.shop import Shop

pytestmark = pytest.mark.integration

BY_NAME = {p.name: p for p in PROJECTIONS}
POISON = "Poison"  # the product name whose creation the poisoned projection cannot apply
ADMIN_TOKEN = "operator-token-for-tests"


class PoisonedError(Exception):
    pass


def poison_products(monkeypatch: pytest.MonkeyPatch) -> None:
    """The products projection's fold raises on the creation of a product named POISON: a bug
    in the projector's code, through its own seam (the deciders `projector.changes` folds
    with). The command API keeps the real decider, so the write itself succeeds."""
    decider = DECIDERS["product"]

    def evolve(state: Any, event: Any) -> Any:
        if type(event).__name__ == "ProductCreated" and event.name == POISON:
            raise PoisonedError(f"cannot project the product {event.id_key}")
        return decider.evolve(state, event)

    poisoned = dataclasses.replace(decider, evolve=evolve)
    monkeypatch.setattr(changes, "DECIDERS", {**DECIDERS, "product": poisoned})


def _projections_status(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`orders projections status`, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "launch.cli", "projections", "status"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def by_name(engine: Engine) -> dict[str, ProjectionStatus]:
    status = await read_status(engine.store, engine.redis)
    return {p.name: p for p in status.projections}


@pytest.fixture
def restart(database_url: str, redis_url: str) -> Callable[[], Awaitable[Engine]]:
    """A new engine on the test's servers: what a restarted projector starts with."""
    return lambda: open_engine(database_url, redis_url, master=MASTER)


async def test_a_projection_that_cannot_apply_an_event_stops_alone_and_resumes_once_fixed(
    shop: Shop,
    engine: Engine,
    restart: Callable[[], Awaitable[Engine]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    category = await shop.category()
    await shop.product(category=category)
    await live.follow(engine)
    with monkeypatch.context() as patch:
        poison_products(patch)
        bad = await shop.create("/products", name=POISON, price=1.0, stock=1, category_id=category)
        later_category = await shop.category()
        later_product = await shop.product(category=later_category)
        later_client = await shop.client()
        with caplog.at_level(logging.INFO, logger="projector"):
            await live.follow(engine)
            stalled = await by_name(engine)
            # its backoff passed: tried again, in vain, with one short line this time
            generation, position, _ = engine.stalled["products"]
            engine.stalled["products"] = (generation, position, 0.0)
            await live.follow(engine)
            again = await by_name(engine)

    # the others went on past the poison
    assert engine.redis is not None
    for name in ("categories", "clients"):
        assert stalled[name].lag_events == 0, stalled[name]
        assert stalled[name].failing is None
    docs, in_redis = await postgres_docs(engine.store), await redis_docs(engine.redis)
    assert later_category in docs["categories"]
    assert later_category in in_redis["categories"]
    assert later_client in docs["clients"]
    # the products projection stopped just before the event, and says which one and why
    failing = stalled["products"].failing
    assert failing is not None
    [created] = await engine.store.read_stream(f"product-{bad['id_key']}")
    assert (failing.event_id, failing.event_type) == (created.event_id, "ProductCreated")
    assert failing.position == await engine.store.feed_position_of(created.global_position)
    assert stalled["products"].position == failing.position - 1
    assert failing.error == f"PoisonedError: cannot project the product {bad['id_key']}"
    assert failing.attempts == 1
    assert again["products"].failing is not None
    assert again["products"].failing.attempts == 2
    assert again["products"].position == failing.position - 1
    assert bad["id_key"] not in docs["products"]
    assert later_product not in docs["products"]  # nothing past the poison, nothing skipped
    tracebacks = [r for r in caplog.records if r.exc_info and r.name == "projector.runner"]
    assert len(tracebacks) == 1, [r.getMessage() for r in caplog.records]
    assert "still cannot apply" in caplog.text

    # fixed and restarted: it resumes from the event, then equals a fresh rebuild
    restarted = await restart()
    try:
        await _resumes_and_equals_a_fresh_rebuild(restarted, {bad["id_key"], later_product})
    finally:
        await restarted.close()


async def _resumes_and_equals_a_fresh_rebuild(engine: Engine, products: set[int]) -> None:
    await live.follow(engine)
    resumed = await by_name(engine)
    assert resumed["products"].failing is None
    assert resumed["products"].lag_events == 0
    live_docs = await postgres_docs(engine.store)
    assert products <= set(live_docs["products"])
    await rebuild.rebuild(engine, [BY_NAME["products"]], progress=False)
    assert engine.redis is not None
    assert await postgres_docs(engine.store) == live_docs
    assert await redis_docs(engine.redis) == live_docs


async def test_a_rebuild_stops_the_projection_before_the_event_and_switches_the_others(
    shop: Shop, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    category = await shop.category()
    await shop.create("/products", name=POISON, price=1.0, stock=1, category_id=category)
    later = await shop.product(category=category)
    await live.follow(engine)
    expected = await postgres_docs(engine.store)
    products, categories = BY_NAME["products"], BY_NAME["categories"]

    with monkeypatch.context() as patch:
        poison_products(patch)
        patch.setattr(engine, "opened", None)  # the poison is in this process: load here too
        with pytest.raises(RebuildError, match="rebuild of products stopped"):
            await rebuild.rebuild(engine, [categories, products], progress=False)
        halted = await by_name(engine)

    assert halted["categories"].generation == 2  # switched
    assert halted["products"].generation == 1  # not switched: the live one still serves
    assert halted["products"].failing is None
    failing = halted["products"].rebuild_failing
    assert failing is not None
    assert failing.event_type == "ProductCreated"
    assert halted["products"].rebuilding == (2, failing.position - 1)
    assert await postgres_docs(engine.store) == expected

    done = await rebuild.rebuild(engine, [products], progress=False)  # fixed: resumes, switches
    assert [r.generation for r in done] == [2]
    after = await by_name(engine)
    assert after["products"].rebuild_failing is None
    assert after["products"].rebuilding is None
    assert await postgres_docs(engine.store) == expected
    assert later in expected["products"]


async def test_a_loader_process_leaves_an_event_it_cannot_decode_to_the_rebuilds_runner(
    shop: Shop, engine: Engine
) -> None:
    """The bulk load runs in loader processes of its own: one that meets an event it cannot
    decode gives its projection up to the runner, which stops just before that event and names
    it; the other projections load and switch."""
    assert engine.opened is not None  # so the loads run in loader processes
    await shop.category()
    bogus = NewEvent("ProductCreated", {"bogus": 1})
    appended = await engine.store.append(
        [StreamAppend("product-999998", Expect.NO_STREAM, [bogus])]
    )
    await live.follow(engine)  # sequenced (the live products stop there too)
    position = await engine.store.feed_position_of(appended.global_positions[0])
    assert position is not None

    with pytest.raises(RebuildError, match="rebuild of products stopped"):
        await rebuild.rebuild(engine, [BY_NAME["categories"], BY_NAME["products"]], progress=False)

    halted = await by_name(engine)
    assert halted["categories"].generation == 2
    assert halted["products"].generation == 1
    failing = halted["products"].rebuild_failing
    assert failing is not None
    assert (failing.event_id, failing.position) == (bogus.event_id, position)
    assert halted["products"].rebuilding == (2, position - 1)


async def test_an_event_that_cannot_be_decoded_is_named_by_every_status_surface(
    shop: Shop, projected: Projected, database_url: str
) -> None:
    category = await shop.category()
    await projected.catch_up()
    # what a bad upcaster or a hand-made event leaves in the log: data of another shape
    bogus = NewEvent("ProductCreated", {"bogus": 1})
    appended = await projected.store.append(
        [StreamAppend("product-999999", Expect.NO_STREAM, [bogus])]
    )
    later = await shop.category()
    await projected.catch_up()

    settings = query_settings(TEST_DATA, ORDERS_ADMIN_TOKEN=ADMIN_TOKEN)
    async with query_client(settings, database_url, projected.redis_url) as api:
        admin = await api.get(
            "/admin/projections", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        health = await api.get("/health_check")
        metrics = await api.get("/metrics")
        read = await api.get(f"/categories/{later}")

    assert read.status_code == 200, read.text  # the others converged
    assert category != later
    position = await projected.store.feed_position_of(appended.global_positions[0])
    views = {p["name"]: p for p in admin.json()["projections"]}
    failing = views["products"]["failing"]
    assert failing is not None, views["products"]
    assert (failing["event_id"], failing["event_type"]) == (str(bogus.event_id), "ProductCreated")
    assert failing["position"] == position
    assert failing["error"].startswith("EventSchemaError: ProductCreated expects fields")
    assert views["products"]["checkpoint"] == failing["position"] - 1
    assert views["categories"]["failing"] is None
    assert views["categories"]["lag_events"] == 0
    report = health.json()
    assert report["status"] == "degraded"
    projections = report["checks"]["projections"]
    assert projections["lag"]["products"]["health"] == "degraded"
    named = projections["failing"]["products"]
    assert (named["event_id"], named["event_position"]) == (
        failing["event_id"], failing["position"],
    )  # fmt: skip
    assert 'orders_projection_failing{projection="products"} 1.0' in metrics.text
    assert 'orders_projection_failing{projection="categories"} 0.0' in metrics.text
    cli = _projections_status(worker_env(database_url, projected.redis_url))
    assert cli.returncode == 0, cli.stderr
    assert (
        f"failing: products stopped at feed position {position - 1:,}; the event at"
        f" {position:,} (ProductCreated, id {bogus.event_id}) raises EventSchemaError:"
    ) in cli.stdout


def _created(id_key: int, name: str) -> StreamAppend:
    type_name, version, data = codec.encode(ProductCreated(id_key, name, Decimal("1.00"), 5, 1))
    return StreamAppend(f"product-{id_key}", Expect.NO_STREAM, [NewEvent(type_name, data, version)])


@pytest.mark.parametrize(("before", "batch"), [(0, 1000), (300, 1000), (300, 7), (1000, 64)])
async def test_the_event_is_found_wherever_it_sits_and_everything_before_it_is_applied(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, before: int, batch: int
) -> None:
    """Wherever the event sits in a batch (first, in a later chunk of the search, in a later
    batch), the projection ends exactly before it, with every product before it written."""
    store = engine.store
    for first in range(1, before + 1, 100):  # products of their own streams, 100 per append
        await store.append(
            [_created(i, f"P{i}") for i in range(first, min(first + 100, before + 1))]
        )
    await store.append([_created(before + 1, POISON)])
    await store.append([_created(before + 2, "After")])
    engine.live_batch = batch
    with monkeypatch.context() as patch:
        poison_products(patch)
        await live.follow(engine)
        status = await by_name(engine)

    failing = status["products"].failing
    assert failing is not None
    [created] = await store.read_stream(f"product-{before + 1}")
    assert failing.event_id == created.event_id
    assert status["products"].position == failing.position - 1
    assert set((await postgres_docs(store))["products"]) == set(range(1, before + 1))

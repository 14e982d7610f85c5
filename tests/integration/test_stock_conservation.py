"""Stock conservation under a crowd: 200 concurrent buyers over real HTTP, on a stock of 50 units
spread over a few products, adding lines to random orders and then editing them, moving them,
removing them, cancelling, deleting and delivering the orders.

Afterwards every unit is accounted for, per product, in the domain's own terms (`available +
reserved + sold == created`), the reserved and sold units are exactly those of the lines of open
and delivered orders, no step of any product stream ever went negative, every acknowledged line
is in the log exactly once, and the read models (PostgreSQL, Redis and the query API) hold what
the event store says.

The randomness is seeded: `ORDERS_TEST_SEED=<n>` replays a run's choices (the interleaving of
requests is the server's); a failure names its seed.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import pytest

from command_api.app import create_app
from domain import codec
from domain.catalogue import BY_NAME, DECIDERS
from domain.enums import Status
from domain.order import OrderLineAdded, OrderState
from domain.product import ProductCreated, ProductState, StockAdjusted
from eventstore import EventStore, RecordedEvent
from orders.embedded import Endpoints
from orders.settings import Settings
from tests.conftest import TEST_DATA
from tests.projection import postgres_docs, redis_docs
from tests.query import Projected
from tests.served import served
from tests.shop import Shop

pytestmark = pytest.mark.integration

BUYERS = 200
UNITS = 50
ORDERS = 60  # fewer orders than buyers: buyers meet on orders as well as on products
ACCEPTED = {200, 201, 204}
# stock (400), a line or order another buyer removed (404), a final order or contention (409)
REFUSED = {400, 404, 409}


@contextmanager
def reported(seed: int) -> Iterator[None]:
    try:
        yield
    except BaseException as e:
        e.add_note(f"stock conservation seed: {seed} (replay with ORDERS_TEST_SEED={seed})")
        raise


def split(rng: random.Random, units: int, parts: int) -> list[int]:
    """`units` split into `parts` random stocks of at least one unit each."""
    cuts = sorted(rng.sample(range(1, units), parts - 1))
    return [b - a for a, b in zip([0, *cuts], [*cuts, units], strict=True)]


@dataclass
class Ledger:
    """What the buyers were told: every answer by action, and the lines acknowledged as made."""

    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    lines_made: list[int] = field(default_factory=list)

    def note(self, action: str, response: httpx.Response) -> httpx.Response:
        self.answers[(action, response.status_code)] += 1
        assert response.status_code in ACCEPTED | REFUSED, (action, response.text)
        return response


ACTIONS = ["quantity", "quantity", "product", "remove", "cancel", "delete", "progress", "deliver"]
STATUSES = {"cancel": Status.CANCELED, "progress": Status.IN_PROGRESS, "deliver": Status.DELIVERED}


async def buyer(
    api: httpx.AsyncClient,
    rng: random.Random,
    orders: list[int],
    products: list[int],
    ledger: Ledger,
) -> None:
    """Add a line to a random order, then up to three random edits of it or of its order."""
    added = await add_line(api, rng, orders, products, ledger)
    if added is None:
        return
    order, line = added
    for _ in range(rng.randint(0, 3)):
        action = rng.choice(ACTIONS)
        ledger.note(action, await edit(api, rng, action, (order, line), products))


async def add_line(
    api: httpx.AsyncClient,
    rng: random.Random,
    orders: list[int],
    products: list[int],
    ledger: Ledger,
) -> tuple[int, int] | None:
    """Three tries at a line of 1-3 units of a random product in a random order."""
    for _ in range(3):
        order = rng.choice(orders)
        body = {"order_id": order, "product_id": rng.choice(products),
                "quantity": rng.randint(1, 3)}  # fmt: skip
        added = ledger.note("add", await api.post("/order_details", json=body))
        if added.status_code == 201:
            line = int(added.json()["id_key"])
            ledger.lines_made.append(line)
            return order, line
    return None


async def edit(
    api: httpx.AsyncClient,
    rng: random.Random,
    action: str,
    order_and_line: tuple[int, int],
    products: list[int],
) -> httpx.Response:
    order, line = order_and_line
    match action:
        case "quantity":
            return await api.put(f"/order_details/{line}", json={"quantity": rng.randint(1, 4)})
        case "product":
            return await api.put(
                f"/order_details/{line}", json={"product_id": rng.choice(products)}
            )
        case "remove":
            return await api.delete(f"/order_details/{line}")
        case "delete":
            return await api.delete(f"/orders/{order}")
        case _:
            return await api.put(f"/orders/{order}", json={"status": int(STATUSES[action])})


async def open_shop(
    shop: Shop, rng: random.Random, products: int | None
) -> tuple[list[int], list[int]]:
    """`products` (a few when None) sharing UNITS units of stock, and ORDERS empty orders."""
    category = await shop.category()
    stocks = split(rng, UNITS, products or rng.randint(3, 6))
    products = [
        await shop.product(stock=stock, price=rng.choice([1.5, 9.99, 20.0]), category=category)
        for stock in stocks
    ]
    gate = asyncio.Semaphore(8)

    async def order() -> int:
        async with gate:
            return await shop.order()

    return products, list(await asyncio.gather(*(order() for _ in range(ORDERS))))


async def read_all(store: EventStore, kind: str, ids: list[int]) -> dict[int, list[Any]]:
    streams = await store.read_streams([f"{kind}-{i}" for i in ids])
    return {int(s.split("-")[1]): [decoded(e) for e in events] for s, events in streams.items()}


def decoded(event: RecordedEvent) -> Any:
    return codec.decode(event.type, event.data)  # the store hands data out upcast already


def product_states(histories: dict[int, list[Any]]) -> dict[int, ProductState]:
    """Each product folded event by event, checking that no step ever went below zero."""
    states = {}
    for id_key, events in histories.items():
        state = None
        for event in events:
            state = DECIDERS["product"].evolve(state, event)
            assert state is not None
            assert min(state.stock, state.reserved, state.sold) >= 0, (id_key, event, state)
        assert isinstance(state, ProductState)
        states[id_key] = state
    return states


def units_created(events: list[Any]) -> int:
    return sum(
        e.stock if isinstance(e, ProductCreated) else e.delta
        for e in events
        if isinstance(e, ProductCreated | StockAdjusted)
    )


def units_held(orders: dict[int, OrderState]) -> tuple[Counter[int], Counter[int]]:
    """Units per product on lines of open orders (reserved) and of delivered ones (sold)."""
    reserved: Counter[int] = Counter()
    sold: Counter[int] = Counter()
    for state in orders.values():
        if state.deleted or not (state.is_open or state.status is Status.DELIVERED):
            continue
        held = reserved if state.is_open else sold
        for line in state.lines:
            held[line.product_id] += line.quantity
    return reserved, sold


def fold_orders(histories: dict[int, list[Any]]) -> dict[int, OrderState]:
    states = {}
    for id_key, events in histories.items():
        state = None
        for event in events:
            state = DECIDERS["order"].evolve(state, event)
        assert isinstance(state, OrderState)
        states[id_key] = state
    return states


def expected_documents(
    products: dict[int, ProductState], orders: dict[int, OrderState]
) -> dict[str, dict[int, Any]]:
    """The documents the read models must hold, rendered from the event store's states."""
    out: dict[str, dict[int, Any]] = {"products": {}, "orders": {}, "order_details": {}}
    for name, states in (("products", products), ("orders", orders), ("order_details", orders)):
        for state in states.values():
            out[name] |= {doc["id_key"]: doc for doc in BY_NAME[name].documents(state)}
    return out


def loaded(docs: dict[str, dict[int, bytes]], tables: list[str]) -> dict[str, dict[int, Any]]:
    return {table: {i: orjson.loads(doc) for i, doc in docs[table].items()} for table in tables}


@pytest.fixture
async def commands_over_http(
    database_url: str, servers: Endpoints
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(RATE_LIMIT_ENABLED="false", ORDERS_DATA_DIR=str(TEST_DATA))
    app = create_app(settings, database_url, servers.redis_url)
    limits = httpx.Limits(max_connections=BUYERS, max_keepalive_connections=BUYERS)
    async with (
        served(app) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client,
    ):
        yield client


@pytest.mark.parametrize("products", [None, 1], ids=["a few products", "one product"])
async def test_two_hundred_buyers_never_create_lose_or_oversell_a_unit(
    commands_over_http: httpx.AsyncClient,
    projected: Projected,
    query_api: httpx.AsyncClient,
    products: int | None,
) -> None:
    seed = int(os.environ.get("ORDERS_TEST_SEED") or random.randrange(2**32))
    with reported(seed):
        await run_the_crowd(commands_over_http, projected, query_api, seed, products)


async def run_the_crowd(
    api: httpx.AsyncClient,
    projected: Projected,
    query_api: httpx.AsyncClient,
    seed: int,
    products: int | None = None,
) -> None:
    rng = random.Random(seed)  # a test's reproducible choices, not a secret
    product_ids, order_ids = await open_shop(Shop(api), rng, products)
    ledger = Ledger()
    rngs = [random.Random(rng.random()) for _ in range(BUYERS)]
    await asyncio.gather(*(buyer(api, r, order_ids, product_ids, ledger) for r in rngs))
    assert ledger.answers[("add", 201)] > 0, ledger.answers
    assert ledger.answers[("add", 400)] > 0, ledger.answers  # more wanted than there was

    product_events = await read_all(projected.store, "product", product_ids)
    products = product_states(product_events)
    orders = fold_orders(await read_all(projected.store, "order", order_ids))
    assert_units_conserved(product_events, products, orders)
    added = [e.id_key for o in order_ids for e in await lines_added(projected.store, o)]
    assert sorted(added) == sorted(ledger.lines_made)  # each acknowledged line exactly once

    await projected.catch_up()
    await assert_read_models_hold(expected_documents(products, orders), projected, query_api)


def assert_units_conserved(
    product_events: dict[int, list[Any]],
    products: dict[int, ProductState],
    orders: dict[int, OrderState],
) -> None:
    """Per product: created = available + reserved + sold, reserved and sold being exactly the
    units on the lines of open and of delivered orders."""
    reserved, sold = units_held(orders)
    for id_key, state in products.items():
        assert units_created(product_events[id_key]) == state.stock + state.reserved + state.sold
        assert (state.reserved, state.sold) == (reserved[id_key], sold[id_key]), id_key
    assert sum(units_created(events) for events in product_events.values()) == UNITS


async def assert_read_models_hold(
    expected: dict[str, dict[int, Any]], projected: Projected, query_api: httpx.AsyncClient
) -> None:
    tables = list(expected)
    assert loaded(await postgres_docs(projected.store), tables) == expected
    assert loaded(await redis_docs(projected.redis), tables) == expected
    for id_key, document in expected["products"].items():
        assert (await query_api.get(f"/products/{id_key}")).json() == document
    page = await query_api.get("/order_details", params={"limit": 1000})
    assert {d["id_key"]: d for d in page.json()} == expected["order_details"]


async def lines_added(store: EventStore, order: int) -> list[Any]:
    events = [decoded(e) for e in await store.read_stream(f"order-{order}")]
    return [e for e in events if isinstance(e, OrderLineAdded)]

"""A command's cost does not grow with its streams' history: a process holds the states it has
folded and reads only their tails; a cold process starts from a snapshot taken by the same
code. Counted in statements and events read, not in milliseconds."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import orjson
import pytest

from command_api.handling import CommandPath, Edge, Outcome, handle
from command_api.states import StreamStates
from domain import codec
from domain.catalogue import aggregate_of
from domain.client import ClientChanged, ClientCreated, ClientState
from domain.decider import fold
from domain.order import AddOrderLine
from domain.product import StockAdjusted
from domain.upcasters import upcast
from eventstore import EventStore, Expect, NewEvent, StreamAppend
from orders import snapshots
from orders.store import open_store
from tests.keys import MASTER
from tests.shop import Shop

pytestmark = pytest.mark.integration

HISTORY = 100_000
CHUNK = 5_000


def _edge() -> Edge:
    return Edge(str(uuid.uuid4()), "test", "test", dt.datetime.now(dt.UTC))


def _document(outcome: Outcome) -> bytes:
    return orjson.dumps(outcome.versions)


async def _grow(store: EventStore, stream: str, events: int) -> None:
    """`events` stock adjustments appended to a product, as a best-seller's sales would."""
    version = (await store.stream_versions([stream]))[stream]
    product_id = int(stream.rpartition("-")[2])
    for start in range(0, events, CHUNK):
        batch = []
        for n in range(start, min(start + CHUNK, events)):
            name, schema, data = codec.encode(StockAdjusted(product_id, 10**6 + n % 2, n % 2 or -1))
            batch.append(NewEvent(name, data, schema))
        await store.append([StreamAppend(stream, version, batch)])
        version += len(batch)


async def _cost(path: CommandPath, command: Any) -> tuple[int, int]:
    """Statements the command's loads sent, and events they brought back."""
    reads, events = path.states.reads, path.states.events_read
    await handle(path, command, _edge(), _document)
    return path.states.reads - reads, path.states.events_read - events


async def test_a_stream_of_100000_events_costs_a_command_what_a_fresh_stream_does(
    store: EventStore, shop: Shop
) -> None:
    category = await shop.category()
    fresh = await shop.product(stock=10**6, category=category)
    best_seller = await shop.product(stock=10**6, category=category)
    await _grow(store, f"product-{best_seller}", HISTORY)
    orders = [await shop.order() for _ in range(2)]
    # the first process to read the long stream folds it once and leaves a snapshot behind
    first = CommandPath.over(store, None)
    await first.states.load([f"product-{best_seller}"])
    await first.states.close()

    cold = CommandPath.over(store, None)  # another process: holds nothing
    on_fresh = await _cost(cold, AddOrderLine(900, orders[0], fresh, 1))
    on_best_seller = await _cost(cold, AddOrderLine(901, orders[1], best_seller, 1))
    warm = await _cost(cold, AddOrderLine(902, orders[1], best_seller, 1))

    reads, events = on_fresh
    assert on_best_seller[0] <= 2 * reads
    assert on_best_seller[1] <= 2 * events
    assert warm == (1, 0)  # held: one statement that finds nothing new
    assert await shop.stock(best_seller) == 10**6 + (HISTORY - 1) % 2 - 2


async def test_a_state_from_a_snapshot_and_an_upcast_tail_is_the_whole_fold(
    database_url: str,
) -> None:
    async with await open_store(
        database_url, master=MASTER, max_size=2, application_name="test"
    ) as store:
        await _snapshot_and_upcast_tail(store)


async def _snapshot_and_upcast_tail(store: EventStore) -> None:
    stream = "client-7"
    v1 = [  # written before `lastname` existed: the upcaster splits the name
        NewEvent("ClientCreated", {"id_key": 7, "name": "Ada Lovelace", "email": None,
                                   "telephone": None}, 1),
        NewEvent("ClientChanged", {"id_key": 7, "name": "Ada King", "telephone": None}, 1),
    ]  # fmt: skip
    await store.append([StreamAppend(stream, Expect.NO_STREAM, v1)])
    changed = codec.encode(ClientChanged(7, "Ada", "Byron", "+4412345678"))
    await store.append([StreamAppend(stream, 2, [NewEvent(changed[0], changed[2], changed[1])])])
    after_one = fold(aggregate_of(stream).decider, [codec.decode(*_current(v1[0]))])
    await store.save_snapshots([snapshots.snapshot(stream, 1, after_one)])

    loaded = (await StreamStates(store).load([stream]))[stream]
    whole = await store.read_stream(stream)

    expected = fold(aggregate_of(stream).decider, (codec.decode(e.type, e.data) for e in whole))
    assert loaded.version == 3
    assert loaded.state == expected == ClientState(7, "Ada", "Byron", None, "+4412345678")


def _current(event: NewEvent) -> tuple[str, dict[str, Any]]:
    return event.type, upcast(event.type, event.schema_version, dict(event.data))


async def test_a_snapshot_taken_by_other_code_is_never_read(store: EventStore) -> None:
    stream = "client-8"
    name, schema, data = codec.encode(ClientCreated(8, "Ada", "L", None, None))
    await store.append([StreamAppend(stream, Expect.NO_STREAM, [NewEvent(name, data, schema)])])
    wrong = codec.encode_state(ClientState(8, "Not", "Me", "x@y.z", None))
    await store.save_snapshots([(stream, "an older fingerprint", 1, wrong)])
    own = snapshots.snapshot(stream, 1, ClientState(8, "Ada", "L", None, None))

    before = (await StreamStates(store).load([stream]))[stream]
    await store.save_snapshots([own])
    after = (await StreamStates(store).load([stream]))[stream]

    assert before.state == after.state == ClientState(8, "Ada", "L", None, None)


async def test_snapshots_are_taken_off_the_request_path_every_few_hundred_events(
    store: EventStore, shop: Shop
) -> None:
    product = await shop.product(stock=10**6)
    stream = f"product-{product}"
    await _grow(store, stream, snapshots.EVERY + 5)
    path = CommandPath.over(store, None)

    held = (await path.states.load([stream]))[stream]
    await path.states.close()
    found = await store.read_tails([snapshots.tail(stream)])

    snapshot = found[stream].snapshot
    assert snapshot is not None
    assert snapshot.version == held.version == snapshots.EVERY + 6
    assert codec.decode_state(aggregate_of(stream).state, snapshot.state) == held.state
    assert found[stream].events == []

"""Events written before sealing: what reading them through the vault costs, and how fast
`orders store copy` seals them into a new store, against reading the same feed raw in the same
run (the baseline: what any pass over the log costs at least).

A store is filled, for at most `seconds` and MAX_EVENTS events, with client streams whose events
hold plain personal values (one person in ERASED_EVERY erased); then it is read page by page,
raw and through the vault (plain values kept or nulled by the subject's key state), copied,
and the copy read through the vault (its values now sealed, opened)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from eventstore import EventStore, Expect, NewEvent, StreamAppend
from loadtest.bench_eventstore import fresh_database
from loadtest.stats import Row
from orders.store_copy import PAGE, copy_store
from orders.vault import MasterKey, Vault

MAX_EVENTS = 20_000
EVENTS_PER_PERSON = 10
ERASED_EVERY = 10
BATCH = 20  # people per append


def _events(n: int) -> list[NewEvent]:
    created = {"id_key": n, "name": f"Ada {n}", "lastname": "Lovelace", "email": f"a{n}@x.org"}
    changes = [
        {"id_key": n, "telephone": f"+44{n:09d}", "previous_telephone": None, "note": "plain"}
        for _ in range(EVENTS_PER_PERSON - 1)
    ]
    return [NewEvent("ClientCreated", created)] + [NewEvent("ClientChanged", c) for c in changes]


async def _fill(store: EventStore, vault: Vault, seconds: float) -> int:
    """People with plain personal values (as written with sealing off), BATCH to an append;
    one in ERASED_EVERY erased. The number of people."""
    deadline = time.perf_counter() + seconds
    people = 0
    while people * EVENTS_PER_PERSON < MAX_EVENTS and time.perf_counter() < deadline:
        batch = range(people + 1, people + BATCH + 1)
        await store.append([
            StreamAppend(f"client-{n}", Expect.NO_STREAM, _events(n)) for n in batch
        ])  # fmt: skip
        for n in batch:
            if n % ERASED_EVERY == 0:
                await vault.destroy(f"client-{n}")
        people += BATCH
    await store.sequence()
    return people


async def _read_all(read: Callable[[int, int], Awaitable[Sequence[object]]]) -> float:
    """Seconds to read the whole feed page by page."""
    start, after = time.perf_counter(), 0
    while page := await read(after, PAGE):
        after += len(page)
    return time.perf_counter() - start


async def measure(admin_url: str, seconds: float) -> list[Row]:
    master = MasterKey.parse(MasterKey.generate())
    source_url = fresh_database(admin_url, "orders_bench_copy_source")
    target_url = fresh_database(admin_url, "orders_bench_copy_target")
    async with (
        await EventStore.open(source_url, max_size=4) as raw,
        await EventStore.open(target_url, max_size=4) as target,
    ):
        people = await _fill(raw, Vault(raw, master), seconds)
        events = people * EVENTS_PER_PERSON
        raw_time = await _read_all(raw.read_feed)
        opened = EventStore(raw.pool, unseal=Vault(raw, master).unseal)  # keys not yet cached
        opened_time = await _read_all(opened.read_feed)
        start = time.perf_counter()
        copied = await copy_store(raw, target, master, source_name="orders_bench_copy_source")
        copy_time = time.perf_counter() - start
        resealed = EventStore(target.pool, unseal=Vault(target, master).unseal)
        resealed_time = await _read_all(resealed.read_feed)
    assert copied.events == events, copied  # a copy that skipped events would measure nothing
    base = f"feed read raw ({events:,} events, {people:,} people)"
    rate = events / raw_time

    def row(name: str, took: float) -> Row:
        return Row(name, events / took, "events/s", None, None, base, rate)

    return [
        Row(base, rate, "events/s", None, None, "", None),
        row("feed read, plain personal values through the vault", opened_time),
        row("store copy, plain personal values sealed", copy_time),
        row("feed read of the copy, sealed values opened", resealed_time),
    ]

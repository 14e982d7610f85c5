"""The event store benchmark: appends/s and latency at 1, 8 and 32 writers for 1- and 10-event
appends, the sequencer's events/s, and in the same run the ceiling of plain single-row INSERT
transactions through the same driver and pool (the baseline every append figure is divided by);
then the verification of the feed those steps wrote, by its chain alone and against signed
checkpoints (the first the baseline of the second)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

import migrations
from eventstore import EventStore, Expect, NewEvent, StreamAppend
from loadtest.stats import Row, percentile_ms
from orders.signed_checkpoints.audit import verify_against
from orders.signed_checkpoints.signing import SigningKey, new_signing_key
from orders.signed_checkpoints.sink import DirectorySink

WRITERS = (1, 8, 32)
CHECKPOINT_EVERY = 1000  # feed positions between the signed checkpoints verified against
PAYLOAD = {"product_id": 17, "quantity": 2, "price": "19.99", "note": "benchmark event"}


async def _drive(
    writers: int, seconds: float, op: Callable[[int, int], Awaitable[None]]
) -> tuple[float, list[float]]:
    """Run `op(writer, n)` in `writers` loops for `seconds`; return ops/s and latencies."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop(w: int) -> None:
        n = 0
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            await op(w, n)
            latencies.append(time.perf_counter() - t0)
            n += 1

    start = time.perf_counter()
    await asyncio.gather(*(loop(w) for w in range(writers)))
    return len(latencies) / (time.perf_counter() - start), latencies


def fresh_database(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    migrations.upgrade(url)
    return url


async def measure(url: str, seconds: float) -> list[Row]:
    rows: list[Row] = []
    async with await EventStore.open(url, min_size=32, max_size=32) as store:
        async with store.pool.connection() as conn:
            await conn.execute("CREATE TABLE bench_plain (id bigserial PRIMARY KEY, data jsonb)")
        for writers in WRITERS:
            plain_rate, plain_lat = await _drive(writers, seconds, _plain_insert(store))
            rows.append(_row(f"plain INSERT, {writers} writers", plain_rate, plain_lat, "", None))
            for size in (1, 10):
                rate, lat = await _drive(writers, seconds, _append(store, size, writers))
                rows.append(
                    _row(
                        f"append {size} event{'s' if size > 1 else ''}, {writers} writers",
                        rate,
                        lat,
                        f"plain INSERT, {writers} writers",
                        plain_rate,
                        unit="appends/s",
                    )
                )
        rows.append(await _sequencer(store, rows))
        rows += await _verify(store)
    return rows


def _row(  # noqa: PLR0917 - a table row is a list of positional cells
    name: str,
    rate: float,
    lat: list[float],
    base_name: str,
    base: float | None,
    unit: str = "tx/s",
) -> Row:
    return Row(name, rate, unit, percentile_ms(lat, 50), percentile_ms(lat, 99), base_name, base)


def _plain_insert(store: EventStore) -> Callable[[int, int], Awaitable[None]]:
    async def op(_w: int, _n: int) -> None:
        async with store.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO bench_plain (data) VALUES (%s::jsonb)",
                ('{"product_id": 17, "quantity": 2, "price": "19.99", "note": "benchmark event"}',),
                prepare=True,
            )

    return op


def _append(store: EventStore, size: int, writers: int) -> Callable[[int, int], Awaitable[None]]:
    tag = f"s{size}w{writers}"

    async def op(w: int, n: int) -> None:
        events = [NewEvent("StockReserved", PAYLOAD) for _ in range(size)]
        expected = Expect.NO_STREAM if n == 0 else n * size
        await store.append([StreamAppend(f"bench-{tag}x{w}", expected, events)])

    return op


async def _sequencer(store: EventStore, rows: list[Row]) -> Row:
    """Sequence the whole backlog the append steps left, timed; compared with the best append rate
    in events/s, so the ratio says whether the sequencer keeps up with the writers."""
    status = await store.feed_status()
    start = time.perf_counter()
    done = await store.sequence(batch=5000)
    rate = done / (time.perf_counter() - start)
    single_32 = next(r for r in rows if r.name == "append 1 event, 32 writers")
    ten_32 = next(r for r in rows if r.name == "append 10 events, 32 writers")
    best_events = max(single_32.figure, ten_32.figure * 10)
    assert done == status.pending
    return Row(
        f"sequencer ({done:,} events backlog)",
        rate,
        "events/s",
        None,
        None,
        "best append rate in events",
        best_events,
    )


async def _verify(store: EventStore) -> list[Row]:
    """The whole feed verified by its chain, then against checkpoints signed every
    CHECKPOINT_EVERY positions (read from a sink, signatures checked, hashes compared): events/s."""
    last = (await store.feed_head()).position
    positions = list(range(CHECKPOINT_EVERY, last + 1, CHECKPOINT_EVERY)) or [last]
    key = SigningKey.from_hex(new_signing_key())
    hashes = await store.feed_hashes(positions)
    with tempfile.TemporaryDirectory() as directory:
        sink = DirectorySink(Path(directory))
        for n, position in enumerate(positions, start=1):
            sink.append(key.sign(n, position, hashes[position], datetime.now(UTC)))
        start = time.perf_counter()
        plain = await store.verify()
        plain_rate = plain.checked / (time.perf_counter() - start)
        start = time.perf_counter()
        checked = await verify_against(store, [sink], [key.public])
        rate = checked.chain.checked / (time.perf_counter() - start)
    assert plain.ok, plain  # a benchmark of a verify that failed would measure nothing
    assert checked.ok, checked
    assert len(checked.agreed) == len(positions)
    chain_only = f"verify, chain only ({plain.checked:,} events)"
    return [
        Row(chain_only, plain_rate, "events/s", None, None, "", None),
        Row(f"verify against checkpoints ({len(positions):,} checkpoints)", rate, "events/s",
            None, None, chain_only, plain_rate),
    ]  # fmt: skip

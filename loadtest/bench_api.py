"""The HTTP rows of `orders bench all`, each next to a baseline measured in the same run:

- query API GET one / GET list at 64 and 400 connections vs a trivial FastAPI endpoint served
  by the same server with the same settings; and what one read costs each part of the platform
  in CPU milliseconds, from Redis and, with Redis stopped, from PostgreSQL's read models;
- command API "create client" and "add order line" at 64 connections vs plain single-row INSERT
  transactions through the same driver and a pool of the same size;
- write -> readable lag (a command's response to the query API serving it, no token), at half
  the measured create-client throughput and at all of it (as many writes a second as 64
  connections got through the command API: the rate the projector must keep up with).
"""

from __future__ import annotations

import asyncio
import itertools
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson

from eventstore import EventStore
from loadtest import bench_commands, cpu, generators, httpload
from loadtest.bench_eventstore import _drive, _plain_insert
from loadtest.meter import Meter
from loadtest.platform import Platform, free_port
from loadtest.stats import Row, percentile_ms
from orders.embedded import start_redis, stop_redis

CONNECTIONS = (64, 400)
READ_CONNECTIONS = 64  # of the CPU per read rows
# How often a pending write is looked for: each one polls, so at a few hundred writes/s a
# tighter loop becomes the load that delays the projection it is waiting for.
POLL_SECONDS = 0.005
TRACK_EVERY = 4
WRITERS = 64  # connections that saturate the command API on a 2-core machine
FULL_RATE = " at the full command rate"


def _serve_trivial(workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "loadtest.trivial", "--port", str(port), "--workers", str(workers)],
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:  # noqa: PLR2004
                return process, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the trivial endpoint did not start")


def _read_urls(platform: Platform) -> tuple[str, str]:
    """A product in the middle of the demo shop's, and the first page of 20."""
    products = httpx.get(f"{platform.query_url}/products", params={"limit": 1000}).json()
    one = f"{platform.query_url}/products/{products[len(products) // 2]['id_key']}"
    return one, f"{platform.query_url}/products?limit=20"


def reads(
    platform: Platform, seconds: float, workers: int, generator: generators.Generator
) -> list[Row]:
    one, many = _read_urls(platform)
    trivial, trivial_url = _serve_trivial(workers)
    rows = []
    try:
        for connections in CONNECTIONS:
            by = generator.name
            base = generator.get(f"{trivial_url}/ping", connections, seconds)
            label = f"trivial FastAPI GET, {connections} conn"
            rows.append(httpload.row(label, base, None, by))
            for name, url in (
                (f"query GET one, {connections} conn", one),
                (f"query GET list (20), {connections} conn", many),
            ):
                rows.append(
                    httpload.row(name, generator.get(url, connections, seconds), (label, base), by)
                )
    finally:
        trivial.terminate()
        trivial.wait(30)
    return rows


async def cpu_per_read(
    platform: Platform, seconds: float, generator: generators.Generator, *, redis_down: bool = False
) -> list[Row]:
    """CPU milliseconds per read by part of the platform (query API, Redis, PostgreSQL). With
    `redis_down`, the platform's embedded Redis is stopped for the step (started again after):
    every read then falls back to PostgreSQL's read models, the load a read replica would take."""
    assert platform.process is not None
    one, many = _read_urls(platform)
    path = "Redis down, PostgreSQL fallback" if redis_down else "Redis"
    rows = []
    async with Meter(platform.process.pid, platform.data_dir, platform.database_url) as meter:
        for name, url in (("GET one", one), ("GET list (20)", many)):
            if redis_down:
                stop_redis(platform.data_dir / "redis")
            try:
                before = await meter.reading()
                load = await asyncio.to_thread(generator.get, url, READ_CONNECTIONS, seconds)
                cost = await meter.cost(before, load.requests)
            finally:
                if redis_down:
                    start_redis(platform.data_dir / "redis")
            errors = f", {load.errors} errors" if load.errors else ""
            rows.append(
                Row(f"CPU per read ({name}, {path}, {READ_CONNECTIONS} conn):"
                    f" {cost.parts('command-api')} (at {load.rps:,.0f} reads/s{errors};"
                    f" postgresql for {cost.postgresql_split()})",
                    sum(cost.cpu_ms.values()), "ms", None, None, "", None, generator.name)
            )  # fmt: skip
    return rows


async def _create_clients(platform: Platform, seconds: float) -> httpload.Load:
    """The command API's create-client throughput at WRITERS connections, back to back."""
    run = itertools.count()

    def client(_c: int, _n: int) -> tuple[str, str, bytes]:
        body = {"name": "Bench", "email": f"c{next(run)}-{time.time_ns()}@bench.io"}
        return "POST", "/clients", orjson.dumps(body)

    return await httpload.hammer(platform.command_url, WRITERS, seconds, client)


async def writes(platform: Platform, seconds: float, pool_size: int) -> tuple[list[Row], float]:
    connections = WRITERS
    store = await EventStore.open(platform.database_url, min_size=pool_size, max_size=pool_size)
    try:
        async with store.pool.connection() as conn:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS bench_plain (id bigserial PRIMARY KEY, data jsonb)"
            )
        rate, latencies = await _drive(connections, seconds, _plain_insert(store))
    finally:
        await store.close()
    base = httpload.Load(rate, percentile_ms(latencies, 50), percentile_ms(latencies, 99), 0, 0)
    label = f"plain INSERT, {connections} writers, pool {pool_size}"
    rows = [httpload.row(label, base, None, "")]
    created = await _create_clients(platform, seconds)
    name = f"command create client, {connections} conn"
    rows.append(httpload.row(name, created, (label, base)))

    async with httpx.AsyncClient(base_url=platform.command_url, timeout=30) as api:
        products = [
            (await api.post("/products", json={
                "name": f"Bench {i}", "price": 1.5, "stock": 10**8, "category_id": 1,
            })).json()["id_key"]
            for i in range(200)
        ]  # fmt: skip
        orders = await bench_commands.open_orders(api, connections)
    rng = random.Random(3)

    def line(c: int, _n: int) -> tuple[str, str, bytes]:
        body = {"order_id": orders[c], "product_id": rng.choice(products), "quantity": 1}
        return "POST", "/order_details", orjson.dumps(body)

    lines = await httpload.hammer(platform.command_url, connections, seconds, line)
    name = f"command add order line, {connections} conn"
    rows.append(httpload.row(name, lines, (label, base)))
    return rows, created.rps


async def lag(platform: Platform, rate: float, seconds: float, *, label: str = "") -> Row:
    """Open loop at `rate` writes/s; a write's lag is from its response to the end of the first
    read of the query API (no token) that returns it, measured on one write in TRACK_EVERY:
    every tracked write polls, and polling them all would make the load generator the
    bottleneck. The row also names how long that successful read took on its own, and how long
    after the response it was asked (the projection's lag, give or take a poll): at the full
    command rate the query API shares the CPU with a saturated command API, and a write that
    is readable at the first poll still counts that poll's whole round trip. Writes and reads
    go through the lean client (`httpload.Client`): httpx took most of a core at the full
    rate, and its own event loop's delay showed up in every round trip it timed."""
    lags: list[float] = []
    last_reads: list[float] = []  # the successful read's own time: the lag's part beyond the write
    found_by: list[float] = []  # from the response to asking the read that found it
    writes = httpload.Client(platform.command_url, timeout=10)
    reads = httpload.Client(platform.query_url, timeout=10)
    try:

        async def one(i: int) -> None:
            body = orjson.dumps({"email": f"lag{i}-{time.time_ns()}@b.io"})
            _, created = await writes.request("POST", "/clients", body)
            answered = time.perf_counter()
            if i % TRACK_EVERY:
                return
            path = f"/clients/{orjson.loads(created)['id_key']}"
            while True:
                asked = time.perf_counter()
                if (await reads.request("GET", path))[0] == 200:  # noqa: PLR2004
                    break
                await asyncio.sleep(POLL_SECONDS)
            lags.append(time.perf_counter() - answered)
            last_reads.append(time.perf_counter() - asked)
            found_by.append(asked - answered)

        tasks = []
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
            tasks.append(asyncio.create_task(one(i)))
        await asyncio.gather(*tasks)
    finally:
        await writes.aclose()
        await reads.aclose()
    read, asked = _p50_p99(last_reads), _p50_p99(found_by)
    return Row(
        f"write -> readable lag{label}, {rate:,.0f} writes/s (the successful read itself: {read};"
        f" asked after {asked})",
        rate, "writes/s",
        percentile_ms(lags, 50), percentile_ms(lags, 99), "", None, "httpload client, open loop",
    )  # fmt: skip


def _p50_p99(samples: list[float]) -> str:
    return f"p50 {percentile_ms(samples, 50):.0f}, p99 {percentile_ms(samples, 99):.0f} ms"


def lags(platform: Platform, create_rate: float, seconds: float) -> list[Row]:
    """The lag at half the measured create-client rate, and at all of it; and the projector's
    CPU per write at all of it (its wake-ups' cost, whatever their number)."""
    assert platform.process is not None
    half = asyncio.run(lag(platform, max(create_rate / 2, 1.0), seconds))
    root, data = platform.process.pid, platform.data_dir
    before = cpu.cpu_seconds(root, data)
    full = asyncio.run(lag(platform, max(create_rate, 1.0), seconds, label=FULL_RATE))
    writes = int(full.figure * seconds)
    spent = cpu.per_request_ms(before, cpu.cpu_seconds(root, data), writes)
    parts = f"redis {spent['redis']:.2f}, postgresql (every backend) {spent['postgresql']:.2f}"
    label = f"projector CPU per write{FULL_RATE} (beside it: {parts})"
    return [half, full, Row(label, spent["projector"], "ms", None, None, "", None, full.generator)]


def lag_only(data_dir: Path, seconds: float, *, workers: int = 2) -> list[Row]:
    """`orders bench lag`: the create-client rate at 64 connections, then the lag rows, on a
    platform of their own (the other API rows take minutes; this is what the projector's
    live path is tuned against)."""
    with _started(data_dir, workers) as platform:
        created = asyncio.run(_create_clients(platform, seconds))
        name = f"command create client, {WRITERS} conn"
        return [httpload.row(name, created, None), *lags(platform, created.rps, seconds)]


@contextmanager
def _started(data_dir: Path, workers: int) -> Iterator[Platform]:
    """A wiped platform, running with a small demo shop once its read models show it."""
    platform = Platform(data_dir, workers=workers)
    platform.wipe()
    with platform:
        seed(platform)
        yield platform


def seed(platform: Platform) -> None:
    """A demo shop, written through the command path, once the query API serves it."""
    platform.orders("demo-data", "--clients", "300", "--products", "200", "--orders", "300")
    deadline = time.monotonic() + 120
    while not httpx.get(f"{platform.query_url}/products", params={"limit": 1}).json():
        if time.monotonic() > deadline:
            raise RuntimeError("the read models stayed empty")
        time.sleep(0.5)


def run(
    data_dir: Path,
    seconds: float,
    *,
    workers: int = 2,
    pool_size: int = 20,
    generator: generators.Generator | None = None,
) -> list[Row]:
    generator = generator or generators.choose()
    with _started(data_dir, workers) as platform:
        rows = reads(platform, seconds, workers, generator)
        rows += asyncio.run(cpu_per_read(platform, seconds, generator))
        write_rows, create_rate = asyncio.run(writes(platform, seconds, pool_size))
        rows += write_rows
        rows += lags(platform, create_rate, seconds)
        rows += asyncio.run(bench_commands.history(platform, seconds))
        rows += asyncio.run(bench_commands.crowd(platform, seconds))
        rows += asyncio.run(bench_commands.cpu_per_command(platform, seconds))
        rows += asyncio.run(cpu_per_read(platform, seconds, generator, redis_down=True))
    rows += bench_commands.sealing(data_dir, seconds, workers)
    return rows

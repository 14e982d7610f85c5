"""The command path's rows of `orders bench api`, each against a baseline from the same run:

- "add order line" on a product with a long history (HISTORY events) vs on a fresh product: the
  cost of a command must not grow with history (the state cache and snapshots);
- 64 buyers of one product vs 64 buyers of 64 products: a hot stream queues, it does not storm
  (no 409 contention);
- CPU per command, per part of the platform (command API, PostgreSQL, projector, Redis), for
  "create client" and "add order line", over the same load as the throughput rows, with the
  WAL bytes each writes and the projector's CPU per event (inputs of docs/capacity.md);
- creating clients with personal data sealed vs left plain: what crypto-shredding costs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson

from domain import codec
from domain.product import StockAdjusted
from eventstore import EventStore, NewEvent, StreamAppend
from loadtest import cpu, httpload
from loadtest.meter import Meter
from loadtest.platform import Platform
from loadtest.stats import Row

HISTORY = 100_000
CHUNK = 5_000
CONNECTIONS = 64
FEW = 8  # connections for the history rows: a single product's queue, not a crowd
Request = Callable[[int, int], tuple[str, str, bytes]]


async def _products(api: httpx.AsyncClient, n: int) -> list[int]:
    category = (await api.post("/categories", json={"name": f"Bench {time.time_ns()}"})).json()
    return [
        (await api.post("/products", json={
            "name": f"Bench {i}", "price": 1.5, "stock": 10**8, "category_id": category["id_key"],
        })).json()["id_key"]
        for i in range(n)
    ]  # fmt: skip


async def open_orders(api: httpx.AsyncClient, n: int) -> list[int]:
    """`n` open orders, each of a client and bill of its own."""

    async def order(i: int) -> int:
        stamp = f"{i}-{time.time_ns()}"
        client = (await api.post("/clients", json={"email": f"buyer-{stamp}@bench.io"})).json()
        bill = await api.post("/bills", json={
            "bill_number": f"BUY-{stamp}", "date": "2026-11-26", "total": 10**9,
            "payment_type": 1, "client_id": client["id_key"],
        })  # fmt: skip
        placed = await api.post("/orders", json={
            "delivery_method": 1, "client_id": client["id_key"], "bill_id": bill.json()["id_key"],
        })  # fmt: skip
        return int(placed.json()["id_key"])

    return list(await asyncio.gather(*(order(i) for i in range(n))))


async def grow(database_url: str, product: int, events: int) -> None:
    """`events` stock adjustments on a product, appended straight to its stream (as years of
    sales would leave it, without taking years)."""
    stream = f"product-{product}"
    async with await EventStore.open(database_url, max_size=2) as store:
        version = (await store.stream_versions([stream]))[stream]
        for start in range(0, events, CHUNK):
            batch = []
            for n in range(start, min(start + CHUNK, events)):
                change = StockAdjusted(product, 10**8 + n % 2, 1 if n % 2 else -1)
                name, schema, data = codec.encode(change)
                batch.append(NewEvent(name, data, schema))
            await store.append([StreamAppend(stream, version, batch)])
            version += len(batch)


def _lines(orders: list[int], products: Callable[[int], int]) -> Request:
    def line(c: int, _n: int) -> tuple[str, str, bytes]:
        body = {"order_id": orders[c], "product_id": products(c), "quantity": 1}
        return "POST", "/order_details", orjson.dumps(body)

    return line


def _always(product: int) -> Callable[[int], int]:
    return lambda _connection: product


async def _warmed(url: str, request: Request, connections: int) -> None:
    """One request per connection before the clock starts: each API process folds a stream it
    has never read once (the long history's first reader also leaves a snapshot behind)."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as api:
        sent = [request(c, 0) for c in range(connections)]
        headers = {"content-type": "application/json"}
        await asyncio.gather(*(api.request(m, p, content=b, headers=headers) for m, p, b in sent))


async def history(platform: Platform, seconds: float) -> list[Row]:
    async with httpx.AsyncClient(base_url=platform.command_url, timeout=60) as api:
        fresh, best_seller = await _products(api, 2)
        orders = await open_orders(api, 2 * FEW)
    await grow(platform.database_url, best_seller, HISTORY)
    rows: list[Row] = []
    base: tuple[str, httpload.Load] | None = None
    for name, product, own in (
        ("fresh product", fresh, orders[:FEW]),
        (f"product with {HISTORY:,} events", best_seller, orders[FEW:]),
    ):
        request = _lines(own, _always(product))
        await _warmed(platform.command_url, request, FEW)
        load = await httpload.hammer(platform.command_url, FEW, seconds, request)
        label = f"add order line, {name}, {FEW} conn"
        rows.append(httpload.row(label, load, base))
        base = base or (label, load)
    return rows


async def crowd(platform: Platform, seconds: float) -> list[Row]:
    async with httpx.AsyncClient(base_url=platform.command_url, timeout=60) as api:
        products = await _products(api, CONNECTIONS)
        orders = await open_orders(api, 2 * CONNECTIONS)
    spread = _lines(orders[:CONNECTIONS], lambda c: products[c])
    one = _lines(orders[CONNECTIONS:], _always(products[0]))
    spread_load = await httpload.hammer(platform.command_url, CONNECTIONS, seconds, spread)
    one_load = await httpload.hammer(platform.command_url, CONNECTIONS, seconds, one)
    label = f"{CONNECTIONS} buyers, {CONNECTIONS} products"
    return [
        httpload.row(label, spread_load),
        httpload.row(f"{CONNECTIONS} buyers, one product", one_load, (label, spread_load)),
    ]


async def cpu_per_command(platform: Platform, seconds: float) -> list[Row]:
    """What one command costs, while 64 connections send it: CPU milliseconds by part of the
    platform (its projection and sequencing included: the step ends when they have caught up),
    PostgreSQL WAL bytes, and the projector's CPU per event it applied."""
    assert platform.process is not None
    async with httpx.AsyncClient(base_url=platform.command_url, timeout=60) as api:
        products = await _products(api, 8)
        orders = await open_orders(api, CONNECTIONS)
    counter = iter(range(10**9))

    def client(_c: int, _n: int) -> tuple[str, str, bytes]:
        body = {"name": "Bench", "email": f"cpu{next(counter)}-{time.time_ns()}@bench.io"}
        return "POST", "/clients", orjson.dumps(body)

    rows = []
    async with Meter(platform.process.pid, platform.data_dir, platform.database_url) as meter:
        for name, request in (
            ("create client", client),
            ("add order line", _lines(orders, lambda c: products[c % len(products)])),
        ):
            before = await meter.reading(settle=True)
            load = await httpload.hammer(platform.command_url, CONNECTIONS, seconds, request)
            cost = await meter.cost(before, load.requests, settle=True)
            per_event = cost.cpu_ms["projector"] / max(cost.events, 1e-9)
            rows += [
                Row(f"CPU per command ({name}): {cost.parts('query-api')}"
                    f" (at {load.rps:,.0f} commands/s; postgresql for {cost.postgresql_split()})",
                    sum(cost.cpu_ms.values()), "ms", None, None, "", None, httpload.HAMMER),
                Row(f"WAL per command ({name}, {cost.events:.1f} events, read models included)",
                    cost.wal_bytes, "bytes", None, None, "", None, httpload.HAMMER),
                Row(f"projector CPU per event ({name})", per_event, "ms", None, None, "", None,
                    httpload.HAMMER),
            ]  # fmt: skip
    return rows


async def _create_clients(platform: Platform, seconds: float) -> tuple[httpload.Load, float]:
    """Clients with every personal field given, from CONNECTIONS connections; and the command
    API's CPU milliseconds per client created."""
    assert platform.process is not None
    counter = iter(range(10**9))

    def client(_c: int, _n: int) -> tuple[str, str, bytes]:
        n = next(counter)
        body = {"name": f"Ada {n}", "lastname": "Lovelace", "email": f"ada{n}@bench.io",
                "telephone": "+441234567"}  # fmt: skip
        return "POST", "/clients", orjson.dumps(body)

    await _warmed(platform.command_url, client, CONNECTIONS)
    root, data = platform.process.pid, platform.data_dir
    before = cpu.cpu_seconds(root, data)
    load = await httpload.hammer(platform.command_url, CONNECTIONS, seconds, client)
    spent = cpu.per_request_ms(before, cpu.cpu_seconds(root, data), load.requests)
    return load, spent["command-api"]


def sealing(data_dir: Path, seconds: float, workers: int) -> list[Row]:
    """Creating clients on a platform that seals personal data beside one that leaves it plain
    (ORDERS_SEAL_PERSONAL_DATA=false), each started afresh the same way, one after the other."""
    measured: dict[bool, tuple[httpload.Load, float]] = {}
    for sealed in (False, True):
        env = {"ORDERS_SEAL_PERSONAL_DATA": str(sealed).lower()}
        platform = Platform(data_dir / f"sealed-{sealed}".lower(), workers=workers, extra_env=env)
        platform.wipe()
        with platform:
            measured[sealed] = asyncio.run(_create_clients(platform, seconds))
    (plain, plain_cpu), (sealed_load, sealed_cpu) = measured[False], measured[True]
    base = f"create client, personal data plain, {CONNECTIONS} conn"
    cpu_base = "command API CPU per create client, plain"
    return [
        httpload.row(base, plain),
        httpload.row(f"create client, personal data sealed, {CONNECTIONS} conn", sealed_load,
                     (base, plain)),
        Row(cpu_base, plain_cpu, "ms", None, None, "", None, httpload.HAMMER),
        Row("command API CPU per create client, sealed", sealed_cpu, "ms", None, None, cpu_base,
            plain_cpu, httpload.HAMMER),
    ]  # fmt: skip

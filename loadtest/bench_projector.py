"""The projector benchmark: rebuild events/s of every projection over N events, and in the same
run the plain bulk-upsert rows/s of this PostgreSQL through the same driver (COPY into a
temporary table + INSERT ... ON CONFLICT, in 10k-row batches of document-sized rows).

The events are a realistic shop, written in bulk through `EventStore.append` (many streams per
append) and sequenced: per order a bill (created, assigned), the order placed, three lines each
reserving stock on a product, a status change; plus categories, products, clients with an
address, reviews. The rebuild timed is a real one: the live generation is full (a first,
untimed rebuild made it) and stays so until the switch. Three figures: until every projection
has switched (what readers wait for), with the old generation's rows and keys deleted too, and
until Redis holds the new generations as well (`projector.warming`: until then readers of a
projection read PostgreSQL). Then the
orders projection (half the events) rebuilt alone, cut into parts among the loaders as the
whole rebuild is: next to the first figure, how evenly one projection spreads; and the peak RSS
of a loader process. (A row of the whole rebuild without Redis went once the switch stopped
waiting for Redis: it measured the first row's work again.) The bulk upsert is measured before
and after the rebuilds, and the mean taken: on a shared machine the load changes within a run.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

import orjson
from redis.asyncio import Redis

from domain import codec
from domain.bill import BillAssigned, BillCreated
from domain.category import CategoryCreated
from domain.client import AddressAdded, ClientCreated
from domain.enums import DeliveryMethod, PaymentType, Status
from domain.events import Event
from domain.order import OrderLineAdded, OrderPlaced, OrderStatusChanged
from domain.product import ProductCreated, StockReserved
from domain.review import ReviewCreated
from eventstore import EventStore, Expect, NewEvent, StreamAppend
from loadtest.stats import Row
from projector import rebuild
from projector.engine import Engine, open_engine
from readmodels.schema import PROJECTIONS, Projection

log = logging.getLogger("loadtest.bench_projector")

ORDERS = next(p for p in PROJECTIONS if p.name == "orders")  # the projection with most events

BENCH_REDIS_DB = 14  # flushed by the benchmark
CATEGORIES = 50
EVENTS_PER_ORDER = 10  # bill x2, placed, 3 lines, 3 reservations, status
ORDERS_PER_APPEND = 50
STREAMS_PER_APPEND = 500
UPSERT_BATCH = 10_000
DOC = orjson.dumps(
    {"id_key": 123456, "name": "Product 123456", "price": 19.99, "stock": 17,
     "category_id": 3, "active": True}
).decode()  # fmt: skip
DAY = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)
Append = list[tuple[str, list[Event]]]  # (stream id, its events) in one append


def own_redis_db(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={BENCH_REDIS_DB}"
    return urlunsplit(parts._replace(path=f"/{BENCH_REDIS_DB}"))


def shop(events: int, seed: int = 7) -> list[Append]:
    """Appends of about `events` events in all."""
    rnd = random.Random(seed)
    orders = max(events // EVENTS_PER_ORDER, 1)
    products, clients = max(orders // 20, 10), max(orders // 4, 5)
    categories: Append = [
        (f"category-{c}", [CategoryCreated(c, f"Category {c}")]) for c in range(1, CATEGORIES + 1)
    ]
    appends: list[Append] = [categories]
    appends += _chunks([
        (f"product-{p}", [ProductCreated(p, f"Product {p}", Decimal("9.99"), 10**9,
                                          rnd.randint(1, CATEGORIES))])
        for p in range(1, products + 1)
    ])  # fmt: skip
    appends += _chunks([
        (f"client-{c}", [ClientCreated(c, "Ada", f"Lovelace{c}", f"ada{c}@example.com", None),
                         AddressAdded(c, c, "Main street", str(c), "London")])
        for c in range(1, clients + 1)
    ])  # fmt: skip
    for first in range(1, orders + 1, ORDERS_PER_APPEND):
        ids = range(first, min(first + ORDERS_PER_APPEND, orders + 1))
        appends.append(_orders(rnd, ids, products, clients))
    return appends


def _chunks(streams: Append) -> list[Append]:
    return [streams[i : i + STREAMS_PER_APPEND] for i in range(0, len(streams), STREAMS_PER_APPEND)]


def _orders(rnd: random.Random, ids: range, products: int, clients: int) -> Append:
    streams: dict[str, list[Event]] = {}
    for o in ids:
        client = rnd.randint(1, clients)
        streams[f"bill-{o}"] = [
            BillCreated(o, f"B-{o}", None, DAY.date(), Decimal("30.00"), PaymentType.CARD, client),
            BillAssigned(o, o),
        ]
        placed = OrderPlaced(o, DAY, DeliveryMethod.HOME_DELIVERY, Status.PENDING, client, o)
        order: list[Event] = [placed]
        for n in range(3):
            product, line = rnd.randint(1, products), o * 3 + n
            order.append(OrderLineAdded(line, o, product, 1, Decimal("9.99")))
            streams.setdefault(f"product-{product}", []).append(StockReserved(product, o, line, 1))
        order.append(OrderStatusChanged(o, Status.IN_PROGRESS, Status.PENDING))
        streams[f"order-{o}"] = order
        if o % 10 == 0:
            streams[f"review-{o}"] = [ReviewCreated(o, rnd.randint(1, products), 4.0, None)]
    return list(streams.items())


async def write_events(store: EventStore, events: int, writers: int = 4) -> int:
    """Append a shop of about `events` events and sequence it; return the feed head."""
    pending = iter(shop(events))

    async def writer() -> None:
        for batch in pending:
            await store.append([
                StreamAppend(stream, Expect.ANY, [NewEvent(*_encoded(e)) for e in evs])
                for stream, evs in batch
            ])  # fmt: skip

    await asyncio.gather(*(writer() for _ in range(writers)))
    await store.sequence(batch=10_000)
    return (await store.feed_status()).head


def _encoded(event: Event) -> tuple[str, dict[str, object], int]:
    type_name, version, data = codec.encode(event)
    return type_name, data, version


async def measure_rebuild(
    engine: Engine, projections: tuple[Projection, ...] = PROJECTIONS
) -> tuple[float, float, int, list[rebuild.Rebuilt]]:
    """Seconds until every projection switched, until the old generations were dropped, the
    rows it wrote, and what each projection became (`Rebuilt.warmed_seconds`: until Redis was
    loaded too)."""
    rebuilt = await rebuild.rebuild(engine, projections, progress=True)
    rows = 0
    async with engine.store.pool.connection() as conn:
        for r in rebuilt:
            for table in r.projection.tables:
                cur = await conn.execute(
                    f"SELECT count(*) FROM {table.pg_table} WHERE generation = %s",  # noqa: S608
                    (r.generation,),
                )
                rows += (await cur.fetchone() or (0,))[0]
    return max(r.seconds for r in rebuilt), rebuilt[0].dropped_seconds, rows, rebuilt


async def events_of(store: EventStore, projection: Projection) -> tuple[int, int]:
    """(events, streams) of a projection's stream type."""
    async with store.pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*), count(DISTINCT stream_id) FROM events WHERE stream_type = %s",
            (projection.stream_type,),
        )
        events, streams = await cur.fetchone() or (0, 0)
    return events, streams


async def measure_upsert(store: EventStore, rows: int) -> float:
    """Rows/s of plain bulk upserts of document-sized rows, in batches as large as a rebuild's
    writes, into a table with a primary key and one secondary index."""
    async with store.pool.connection() as conn:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS bench_upsert (id bigint PRIMARY KEY, doc text NOT NULL,"
            " position bigint NOT NULL, category_id bigint, active boolean)"
        )
        await conn.execute(
            "CREATE INDEX IF NOT EXISTS bench_upsert_category ON bench_upsert (category_id, id)"
        )
        await conn.execute("TRUNCATE bench_upsert")
        start = time.perf_counter()
        for first in range(0, rows, UPSERT_BATCH):
            async with conn.transaction():
                await conn.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS stage_bench (LIKE bench_upsert)"
                    " ON COMMIT DELETE ROWS"
                )
                async with conn.cursor().copy("COPY stage_bench FROM STDIN") as copy:
                    for i in range(first, min(first + UPSERT_BATCH, rows)):
                        await copy.write_row((i, DOC, i, i % CATEGORIES, True))
                await conn.execute(
                    "INSERT INTO bench_upsert SELECT * FROM stage_bench ON CONFLICT (id) DO UPDATE"
                    " SET doc = excluded.doc, position = excluded.position,"
                    " category_id = excluded.category_id, active = excluded.active"
                )
        return rows / (time.perf_counter() - start)


async def measure(database_url: str, redis_url: str, events: int) -> list[Row]:
    redis = Redis.from_url(redis_url)
    await redis.flushdb(asynchronous=True)  # a previous run's million keys are freed aside
    await redis.aclose()
    # the benchmark appends its events plain: nothing sealed to open
    engine = await open_engine(
        database_url, redis_url, master=None, application_name="bench-projector"
    )
    try:
        began = time.perf_counter()
        head = await write_events(engine.store, events)
        log.info("%d events written and sequenced in %.1f s", head, time.perf_counter() - began)
        await rebuild.rebuild(engine, PROJECTIONS, progress=False)  # the live generation
        upsert = await measure_upsert(engine.store, head)
        switched, total, rows, rebuilt = await measure_rebuild(engine)
        alone, _, _, _ = await measure_rebuild(engine, (ORDERS,))
        events, streams = await events_of(engine.store, ORDERS)
        upsert = (upsert + await measure_upsert(engine.store, head)) / 2
    finally:
        await engine.close()
    baseline = f"plain bulk upsert, {head:,} rows (mean of before and after)"
    what = f"{head:,} events, {rows:,} rows in PostgreSQL and Redis"
    rss = next((r.loader_rss for r in rebuilt if r.projection is ORDERS), None)
    warmed = rebuilt[0].warmed_seconds
    out = [
        Row(f"rebuild of every projection until switched ({what})", head / switched,
            "events/s", None, None, baseline, upsert),
        Row(f"rebuild incl. dropping the old generation ({what})", head / total,
            "events/s", None, None, baseline, upsert),
        Row(f"rebuild until Redis is loaded too (readers on PostgreSQL until then; {what})",
            head / warmed, "events/s", None, None, baseline, upsert),
        Row(f"rebuild of orders alone until switched ({events:,} of its events)",
            events / alone, "events/s", None, None, baseline, upsert),
    ]  # fmt: skip
    if rss is not None:
        out.append(
            Row(f"rebuild loader peak RSS, orders ({streams:,} streams, {events:,} events)",
                rss / 2**20, "MiB", None, None, "", None)
        )  # fmt: skip
    return out

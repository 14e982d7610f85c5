"""For the projector's tests: the read models as the projector left them, read back from
PostgreSQL and Redis, and digests to compare two of them (a live one and a fresh rebuild)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from psycopg import sql
from redis.asyncio import Redis

from eventstore import EventStore
from readmodels.keys import table_contents
from readmodels.schema import PROJECTIONS, live_generation_key

PROJECTOR_REDIS_DB = 12  # the projector tests' own Redis database, flushed before each test


def with_redis_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("db="))
        return f"unix://{parts.path}?{query + '&' if query else ''}db={db}"
    return urlunsplit(parts._replace(path=f"/{db}"))


Docs = dict[str, dict[int, bytes]]  # table -> id_key -> document bytes


async def live_generations(store: EventStore) -> dict[str, int]:
    async with store.pool.connection() as conn:
        cur = await conn.execute("SELECT name, generation FROM projection_checkpoints")
        return dict(await cur.fetchall())


async def postgres_rows(
    store: EventStore,
) -> dict[str, dict[int, tuple[bytes, int, tuple[Any, ...]]]]:
    """Every live row: table -> id_key -> (doc, position, filter values)."""
    generations = await live_generations(store)
    out: dict[str, dict[int, tuple[bytes, int, tuple[Any, ...]]]] = {}
    async with store.pool.connection() as conn:
        for projection in PROJECTIONS:
            for table in projection.tables:
                fields = sql.SQL("").join(
                    sql.SQL(", {}").format(sql.Identifier(f)) for f, _ in table.filters
                )
                cur = await conn.execute(
                    sql.SQL("SELECT id_key, doc, position{} FROM {} WHERE generation = %s").format(
                        fields, sql.Identifier(table.pg_table)
                    ),
                    (generations.get(projection.name, 1),),
                )
                out[table.name] = {
                    row[0]: (row[1].encode(), row[2], tuple(row[3:]))
                    for row in await cur.fetchall()
                }
    return out


async def postgres_docs(store: EventStore) -> Docs:
    return {
        t: {i: r[0] for i, r in rows.items()} for t, rows in (await postgres_rows(store)).items()
    }


async def redis_generation(redis: Redis, projection: str) -> int:
    raw = await redis.get(live_generation_key(projection))
    return 1 if raw is None else int(raw)


async def redis_docs(redis: Redis) -> Docs:
    """Every document Redis readers see, checked against the indexes that list it."""
    out: Docs = {}
    for projection in PROJECTIONS:
        generation = await redis_generation(redis, projection.name)
        for table in projection.tables:
            docs, indexes = await table_contents(redis, table.redis_prefix(generation))
            expected: dict[str, set[int]] = {}
            for id_key, doc in docs.items():
                for name in table.index_names(orjson.loads(doc)):
                    expected.setdefault(name, set()).add(id_key)
            assert indexes == expected, f"indexes of {table.name} differ from its documents"
            out[table.name] = docs
    return out


def digest(docs: Docs) -> str:
    h = hashlib.sha256()
    for table in sorted(docs):
        for id_key in sorted(docs[table]):
            h.update(f"{table}:{id_key}:".encode() + docs[table][id_key] + b"\n")
    return h.hexdigest()


def documents(rendered: dict[str, list[dict[str, Any]]]) -> Docs:
    return {t: {d["id_key"]: orjson.dumps(d) for d in ds} for t, ds in rendered.items()}


RESOURCES = (
    "categories",
    "products",
    "clients",
    "addresses",
    "bills",
    "orders",
    "order_details",
    "reviews",
)


class Scenario:
    """Writes through the command API touching every event type, remembering every id made."""

    def __init__(self, shop: Any) -> None:
        self.shop = shop
        self.api = shop.api
        self.ids: dict[str, set[int]] = {r: set() for r in RESOURCES}
        self.answered: dict[tuple[str, int], bytes] = {}  # the last document each write returned
        self.rounds = 0

    async def post(self, path: str, **body: Any) -> int:
        response = await self.api.post(f"/{path}", json=body)
        assert response.status_code == 201, (path, body, response.text)
        id_key = int(response.json()["id_key"])
        self.ids[path].add(id_key)
        self.answered[(path, id_key)] = response.content
        return id_key

    async def ok(self, method: str, path: str, **body: Any) -> None:
        response = await self.api.request(method, path, json=body or None)
        assert response.status_code in (200, 204), (method, path, body, response.text)
        if response.status_code == 200:
            resource, id_key = path.strip("/").split("/")
            self.answered[(resource, int(id_key))] = response.content

    async def everything(self, n: int = 1) -> None:
        """Every event type of the domain, `n` times over."""
        for _ in range(n):
            await self.round()

    async def round(self) -> None:
        self.rounds += 1
        n = self.rounds
        books = await self.post("categories", name=f"Books {n}")
        pens = await self.post("categories", name=f"Pens {n}")
        await self.ok("PUT", f"/categories/{pens}", name=f"Fine pens {n}")  # CategoryRenamed
        gone = await self.post("categories", name=f"Gone {n}")
        await self.ok("DELETE", f"/categories/{gone}")  # CategoryDeleted
        novel = await self.post("products", name="Novel", price=12.5, stock=20, category_id=books)
        pen = await self.post("products", name="Pen", price=1.25, stock=100, category_id=pens)
        await self.ok("PUT", f"/products/{pen}", name="Fountain pen", price=30.0)  # ProductChanged
        await self.ok("PUT", f"/products/{pen}", category_id=books)  # ProductMoved, attach/detach
        await self.ok("PUT", f"/products/{pen}", stock=90)  # StockAdjusted
        old = await self.post("products", name="Old", price=2.0, stock=1, category_id=books)
        await self.ok("DELETE", f"/products/{old}")  # ProductDeactivated
        await self.ok("PUT", f"/products/{old}", active=True)  # ProductReactivated
        await self.ok("DELETE", f"/products/{old}")
        ada = await self.post("clients", name="Ada", lastname="Lovelace", email=f"ada{novel}@x.org")
        bob = await self.post("clients", name="Bob", lastname="Byte", email=f"bob{novel}@x.org")
        await self.ok("PUT", f"/clients/{ada}", telephone="+4412345678")  # ClientChanged
        await self.ok("PUT", f"/clients/{bob}", email=f"robert{novel}@x.org")  # ClientEmailChanged
        home = await self.post("addresses", street="Main", number="1", city="London", client_id=ada)
        await self.ok("PUT", f"/addresses/{home}", city="Paris")  # AddressChanged
        work = await self.post("addresses", street="Dock", city="Leeds", client_id=ada)
        await self.ok("PUT", f"/addresses/{work}", client_id=bob)  # moved: removed + added
        spare = await self.post("addresses", street="Spare", city="York", client_id=ada)
        await self.ok("DELETE", f"/addresses/{spare}")  # AddressRemoved
        bill = await self.post(
            "bills", bill_number=f"B{novel}", date="2026-11-26", total=50.0, payment_type=2,
            client_id=ada,
        )  # fmt: skip
        await self.ok("PUT", f"/bills/{bill}", discount=5.0)  # BillChanged
        await self.ok("PUT", f"/bills/{bill}", bill_number=f"C{novel}")  # BillNumberChanged
        order = await self.post("orders", delivery_method=3, client_id=ada, bill_id=bill)
        line = await self.post("order_details", order_id=order, product_id=novel, quantity=2)
        await self.ok("PUT", f"/order_details/{line}", quantity=3)  # reserve more
        other = await self.post("order_details", order_id=order, product_id=pen, quantity=1)
        await self.ok("PUT", f"/order_details/{other}", product_id=novel)  # moved product
        await self.ok("DELETE", f"/order_details/{other}")  # OrderLineRemoved, StockReleased
        await self.ok("PUT", f"/orders/{order}", delivery_method=1)  # OrderChanged
        await self.ok("PUT", f"/orders/{order}", status=2)  # OrderStatusChanged
        bill2 = await self.post(
            "bills", bill_number=f"D{novel}", date="2026-11-27", total=9.0, payment_type=1,
            client_id=bob,
        )  # fmt: skip
        order2 = await self.post("orders", delivery_method=2, client_id=bob, bill_id=bill2)
        moving = await self.post("order_details", order_id=order2, product_id=pen, quantity=1)
        await self.ok(
            "PUT", f"/order_details/{moving}", order_id=order
        )  # line moved between orders
        await self.ok("PUT", f"/orders/{order}", status=3)  # delivered: StockSold
        await self.ok("DELETE", f"/orders/{order2}")  # OrderDeleted, BillReleased
        await self.ok("DELETE", f"/bills/{bill2}")  # BillDeleted
        review = await self.post(
            "reviews", rating=4.5, comment="A fine novel indeed", product_id=novel
        )
        await self.ok("PUT", f"/reviews/{review}", rating=5.0)  # ReviewChanged
        doomed = await self.post("reviews", rating=1.0, product_id=pen)
        await self.ok("DELETE", f"/reviews/{doomed}")  # ReviewDeleted
        await self.ok("DELETE", f"/clients/{bob}")  # ClientDeleted (with its addresses)

    async def expected(self) -> Docs:
        """What the command API answers now for every id ever made (absent when deleted): an
        empty PUT renders the current document; where a final state refuses any PUT (a line of
        a delivered order), the document its last write returned, which nothing changed since."""
        out: Docs = {r: {} for r in RESOURCES}
        for resource, ids in self.ids.items():
            for id_key in ids:
                response = await self.api.put(f"/{resource}/{id_key}", json={})
                if response.status_code == 404:
                    continue
                if response.status_code == 409:
                    out[resource][id_key] = self.answered[(resource, id_key)]
                    continue
                assert response.status_code == 200, (resource, id_key, response.text)
                out[resource][id_key] = response.content
        return out


class Process:
    """A child process of the test (a worker), in its own process group so that stopping it,
    gently or with SIGKILL, reaches its children too; output kept in a file for failures."""

    def __init__(self, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.popen = subprocess.Popen(
                argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]


def worker_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "REDIS_"))}
    return {**env, "DATABASE_URL": database_url, "REDIS_URL": redis_url, "LOG_LEVEL": "WARNING",
            **extra}  # fmt: skip


async def eventually(check: Any, seconds: float = 15.0, pause: float = 0.1) -> None:
    """Wait until `await check()` is true (it may raise AssertionError meanwhile)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if await check():
                return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(pause)

"""A command API worker SIGKILLed with requests in flight (held inside their append by a row
lock the test takes on the product's stream): each client sees a failed request or a complete
one, never half an append; sending a failed one again with its Idempotency-Key appends it once,
and sending a completed one again replays its first response, byte for byte."""

from __future__ import annotations

import asyncio
import random
import uuid

import httpx
import psycopg
import pytest

from loadtest import invariants
from loadtest.cluster import Cluster
from loadtest.ledger import Ledger, Tally, Write
from loadtest.traffic import Shop
from tests.faults.conftest import client, rounds
from tests.projection import eventually

pytestmark = pytest.mark.faults
IN_FLIGHT = 6


async def created(api: httpx.AsyncClient, path: str, body: dict[str, object]) -> int:
    response = await api.post(path, json=body)
    assert response.status_code == 201, response.text
    return int(response.json()["id_key"])


async def orders_for_one_product(api: httpx.AsyncClient, n: int) -> tuple[int, list[int]]:
    tag = uuid.uuid4().hex[:10]
    category = await created(api, "/categories", {"name": f"Kill {tag}"})
    product = await created(
        api, "/products", {"name": "Drill", "price": 80.0, "stock": 100, "category_id": category}
    )
    client = await created(api, "/clients", {"name": "Kim", "email": f"kim-{tag}@x.org"})
    orders = []
    for i in range(n):
        body = {"bill_number": f"K-{tag}-{i}", "date": "2026-11-26", "total": 80.0,
                "payment_type": 1, "client_id": client}  # fmt: skip
        bill = await created(api, "/bills", body)
        orders.append(
            await created(
                api, "/orders", {"delivery_method": 2, "client_id": client, "bill_id": bill}
            )
        )
    return product, orders


async def waiting_on_locks(conn: psycopg.AsyncConnection) -> int:
    cur = await conn.execute(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE application_name = 'command-api' AND wait_event_type = 'Lock'"
    )
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


async def send(url: str, write: Write) -> httpx.Response | Exception:
    async with httpx.AsyncClient(timeout=30) as http:  # a connection of its own
        try:
            address = f"10.99.{random.randrange(256)}.{random.randrange(256)}"
            return await http.request(
                write.method, url + write.path, json=write.body,
                headers={"Idempotency-Key": write.key, "X-Forwarded-For": address},
            )  # fmt: skip
        except httpx.HTTPError as e:
            return e


async def kill_a_worker_mid_append(
    cluster: Cluster, lines: list[Write], product: int
) -> tuple[list[httpx.Response | Exception], int]:
    """Send the lines, hold them all inside their append (the product's stream row locked),
    SIGKILL the worker holding the most of them, let the others go: every answer, and how
    many requests the killed worker held."""
    url = cluster.database_url
    async with (
        await psycopg.AsyncConnection.connect(url, autocommit=True) as lock,
        await psycopg.AsyncConnection.connect(url, autocommit=True) as watch,
    ):
        await lock.execute("BEGIN")
        await lock.execute(
            "SELECT 1 FROM streams WHERE stream_id = %s FOR UPDATE", (f"product-{product}",)
        )
        sent = [asyncio.create_task(send(cluster.command_url, w)) for w in lines]

        async def all_in_flight() -> bool:
            """Every line is inside a worker: in each worker that holds some, one waits on the
            row lock in its append and the others wait their turn behind it (a process sends
            one append per stream at a time)."""
            held = [n for n, _ in cluster.client_connections() if n]
            waiting = await waiting_on_locks(watch)
            return sum(held) == len(lines) and waiting == len(held)

        await eventually(all_in_flight, seconds=30)
        busiest = cluster.busiest_worker()
        assert busiest is not None
        worker, in_flight = busiest
        assert in_flight >= 1
        cluster.kill_api_worker(worker)
        await lock.execute("ROLLBACK")
    return list(await asyncio.gather(*sent)), in_flight


async def test_a_worker_killed_mid_request_leaves_whole_appends_and_retries_append_once(
    healed: Cluster,
) -> None:
    cluster = healed
    workers = len(cluster.api_workers())
    assert workers >= 2  # the server's supervisor replaces a killed worker
    ledger = Ledger()
    for _ in range(rounds(1, 5)):
        # closed before the lines go: a kept-alive connection of its own would be counted as a
        # request in flight, and the kill would wait for the server to drop it (about 30 s, as
        # long as the lines' own timeout, which then failed a survivor's line now and again)
        async with client(cluster.command_url) as api:
            product, orders = await orders_for_one_product(api, IN_FLIGHT)
        lines = [
            Write(str(uuid.uuid4()), "POST", "/order_details",
                  {"order_id": order, "product_id": product, "quantity": 2})
            for order in orders
        ]  # fmt: skip
        ledger.writes += lines
        answers, in_flight = await kill_a_worker_mid_append(cluster, lines, product)

        pairs = list(zip(lines, answers, strict=True))
        failed = [w for w, a in pairs if isinstance(a, Exception)]
        done = [(w, a) for w, a in pairs if isinstance(a, httpx.Response)]
        assert 1 <= len(failed) <= in_flight, answers  # the killed worker's, no others
        assert all(a.status_code == 201 for _, a in done), [a.text for _, a in done]
        for w, a in done:
            w.status, w.token = a.status_code, a.headers["x-consistency-token"]
            w.document = a.json()
        # no failed request left part of an append: all of it (one transaction) or nothing
        whole = await invariants.writes_are_exactly_once(
            cluster.database_url, ledger.writes, every_keyed_write=False
        )
        assert whole.passed, whole.detail
        streams = await streams_by_key(cluster.database_url, [w.key for w in lines])
        for w in lines:
            assert streams.get(w.key, set()) in (set(), {"order", "product"}), w

        cluster.wait_workers(workers)
        await send_again(cluster, ledger, failed, done)

    once = await invariants.writes_are_exactly_once(
        cluster.database_url, ledger.writes, every_keyed_write=False
    )
    assert once.passed, once.detail
    streams = await streams_by_key(cluster.database_url, [w.key for w in ledger.writes])
    assert all(streams[w.key] == {"order", "product"} for w in ledger.writes)
    stock = await invariants.stock_is_conserved(cluster.database_url)
    assert stock.passed, stock.detail


async def send_again(
    cluster: Cluster, ledger: Ledger, failed: list[Write], done: list[tuple[Write, httpx.Response]]
) -> None:
    """The failed ones, with their keys, until answered: each is appended now. Then one that
    completed (or, all failed, was sent again) twice more: its first answer, byte for byte."""
    shop = Shop(cluster.command_url, cluster.query_url, rng=random.Random(1), tally=Tally(),
                ledger=ledger)  # fmt: skip
    try:
        for w in failed:
            await shop.send(w)
            assert w.status == 201, (w.status, w.code)
            assert w.token is not None
    finally:
        await shop.aclose()
    w, first = (done[0][0], done[0][1].content) if done else (failed[0], None)
    replays = [await send(cluster.command_url, w) for _ in range(2)]
    for replay in replays:
        assert isinstance(replay, httpx.Response), replay
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.content == (first or replays[0].content)
        assert replay.json() == w.document


async def streams_by_key(database_url: str, keys: list[str]) -> dict[str, set[str]]:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT metadata->>'idempotency_key', array_agg(DISTINCT stream_type) FROM events"
            " WHERE metadata->>'idempotency_key' = ANY(%s) GROUP BY 1",
            (keys,),
        )
        return {key: set(types) for key, types in await cur.fetchall()}

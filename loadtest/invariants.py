"""What must hold after any mix of traffic and faults, checked against the stores themselves:

    feed_is_contiguous         feed positions 1..N, every committed event in the feed once
    chain_verifies             `orders audit verify` over the whole feed
    read_models_match_rebuild  the live read models (PostgreSQL rows, Redis documents and index
                               sets) equal what a fresh rebuild makes of the same feed
    stock_is_conserved         per product: initial = available + reserved + sold, none negative
    writes_are_exactly_once    every acknowledged write's events are in the log, from exactly
                               one transaction; refused and no-op writes left nothing there
    reads_own_writes           a creation read back at once with its token (from another query
                               API instance than the command API instance that took it, when
                               there are several) is there, or the read says 503: never stale
    erasures_leave_no_trace    no personal value of an erased client in any table or key, and
                               the client's documents and its addresses' say "erased": true

Each returns a `Check` (passed or not, with a line saying why); none raises on a broken
invariant, so a soak reports all of them. `wait_caught_up` is the precondition of most: no write
in flight, the feed sequenced, every projection at the head in PostgreSQL and in Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
from redis.asyncio import Redis

from loadtest.ledger import Erasure, Tally, Write
from loadtest.scan import every_value, found
from orders.consistency import position_of
from readmodels.keys import table_contents
from readmodels.schema import PROJECTIONS, applied_key, live_generation_key

OPEN_STATUSES = {1, 2}  # pending, in progress: their lines hold reserved units
DELIVERED = 3


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    passed: bool
    detail: str


# --- reading the stores ---------------------------------------------------------------------


async def _rows(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, application_name="invariants"
    ) as conn:
        cur = await conn.execute(sql, params)
        return list(await cur.fetchall())


async def _live_generations(database_url: str) -> dict[str, int]:
    rows = await _rows(database_url, "SELECT name, generation FROM projection_checkpoints")
    return {name: int(generation) for name, generation in rows}


Snapshot = dict[str, dict[int, bytes]]  # table -> id_key -> document
Shown = dict[str, dict[int, bytes | None]]  # the same from Redis (None: indexed, missing)


async def postgres_snapshot(database_url: str) -> Snapshot:
    generations = await _live_generations(database_url)
    out: Snapshot = {}
    for projection in PROJECTIONS:
        for table in projection.tables:
            rows = await _rows(
                database_url,
                f"SELECT id_key, doc FROM {table.pg_table} WHERE generation = %s",  # noqa: S608
                (generations.get(projection.name, 1),),
            )
            out[table.name] = {int(i): str(doc).encode() for i, doc in rows}
    return out


async def redis_snapshot(redis_url: str) -> tuple[Shown, dict[str, set[int]]]:
    """The documents readers see in Redis (None: indexed, missing), and each index's ids, by
    table and index name (without the generation)."""
    docs: Shown = {}
    indexes: dict[str, set[int]] = {}
    redis = Redis.from_url(redis_url)
    try:
        for projection in PROJECTIONS:
            raw = await redis.get(live_generation_key(projection.name))
            generation = 1 if raw is None else int(raw)
            for table in projection.tables:
                held, by_name = await table_contents(redis, table.redis_prefix(generation))
                listed = by_name.get("all", set())
                docs[table.name] = {i: held.get(i) for i in sorted(listed | held.keys())}
                indexes.update({f"{table.name}:{n}": ids for n, ids in by_name.items()})
    finally:
        await redis.aclose()
    return docs, indexes


def digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, default=_plain, option=orjson.OPT_SORT_KEYS |
                                       orjson.OPT_NON_STR_KEYS)).hexdigest()[:16]  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(type(value))


# --- caught up ------------------------------------------------------------------------------


async def lag(database_url: str, redis_url: str | None) -> str | None:
    """None when everything committed is in the feed and every projection is at its head in
    PostgreSQL and in Redis (unless `redis_url` is None); else what is behind."""
    ((events, fed, head),) = await _rows(
        database_url,
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM feed),"
        " (SELECT coalesce(max(feed_position), 0) FROM feed)",
    )
    if events != fed:
        return f"{events - fed} events not in the feed yet"
    checkpoints = dict(
        await _rows(database_url, "SELECT name, position FROM projection_checkpoints")
    )
    behind = [p.name for p in PROJECTIONS if checkpoints.get(p.name, 0) != head]
    if behind:
        return f"PostgreSQL read models behind head {head}: {', '.join(behind)}"
    if redis_url is None:
        return None
    redis = Redis.from_url(redis_url, socket_timeout=2)
    try:
        for p in PROJECTIONS:
            raw = await redis.get(live_generation_key(p.name))
            applied = await redis.get(applied_key(p.name, 1 if raw is None else int(raw)))
            if applied is None or int(applied) != head:
                return f"Redis read model {p.name} at {applied!r}, head {head}"
    finally:
        await redis.aclose()
    return None


async def wait_caught_up(database_url: str, redis_url: str | None, seconds: float = 120.0) -> None:
    """Until `lag` is None (the caller has stopped writing)."""
    deadline = time.monotonic() + seconds
    while (behind := await _lag_or_error(database_url, redis_url)) is not None:
        if time.monotonic() > deadline:
            raise AssertionError(f"the projections did not catch up: {behind}")
        await asyncio.sleep(0.25)


async def _lag_or_error(database_url: str, redis_url: str | None) -> str | None:
    try:
        return await lag(database_url, redis_url)
    except Exception as e:  # noqa: BLE001 - a store still coming back: keep waiting
        return f"{type(e).__name__}: {e}"


# --- the invariants ---------------------------------------------------------------------------


async def feed_is_contiguous(database_url: str) -> Check:
    ((count, first, last, events, distinct),) = await _rows(
        database_url,
        "SELECT count(*), coalesce(min(feed_position), 0), coalesce(max(feed_position), 0),"
        " (SELECT count(*) FROM events), count(DISTINCT global_position) FROM feed",
    )
    passed = count == last == events == distinct and first == (1 if count else 0)
    return Check(
        "feed positions contiguous",
        passed,
        f"{count} positions {first}..{last}, {events} events, {distinct} distinct in the feed",
    )


def chain_verifies(run_orders: Callable[..., str]) -> Check:
    try:
        out = run_orders("audit", "verify").strip()
    except subprocess.CalledProcessError as e:
        return Check("audit verify clean", passed=False, detail=(e.stdout or "").strip())
    return Check("audit verify clean", out.startswith("ok:"), out)


async def read_models_match_rebuild(
    database_url: str, redis_url: str, rebuild: Callable[[], Awaitable[None]]
) -> Check:
    """Snapshot the live models, rebuild every projection, snapshot again: all four equal."""
    await wait_caught_up(database_url, redis_url)
    live_pg = await postgres_snapshot(database_url)
    live_redis, live_indexes = await redis_snapshot(redis_url)
    before = await _live_generations(database_url)
    await rebuild()
    await wait_caught_up(database_url, redis_url)
    after = await _live_generations(database_url)
    fresh_pg = await postgres_snapshot(database_url)
    fresh_redis, fresh_indexes = await redis_snapshot(redis_url)
    digests = [digest(live_pg), digest(live_redis), digest(fresh_pg), digest(fresh_redis)]
    switched = all(after[name] > before.get(name, 1) for name in after)
    rows = sum(len(ids) for ids in live_pg.values())
    passed = len(set(digests)) == 1 and live_indexes == fresh_indexes and switched
    return Check(
        "read models equal a fresh rebuild",
        passed,
        f"{rows} documents; digests pg {digests[0]} redis {digests[1]} | rebuilt pg"
        f" {digests[2]} redis {digests[3]}; {len(live_indexes)} index sets"
        f" {'equal' if live_indexes == fresh_indexes else 'DIFFER'}; generations {after}",
    )


async def stock_is_conserved(database_url: str) -> Check:
    """Initial stock (created + adjustments, from the events) against what the read models
    show: available on the product, reserved by lines of open orders, sold by delivered ones.
    The PostgreSQL read models are waited for first: writes must have stopped."""
    await wait_caught_up(database_url, None)
    initial: dict[int, int] = defaultdict(int)
    for data in await _rows(
        database_url,
        "SELECT event_type, data FROM events"
        " WHERE event_type IN ('ProductCreated', 'StockAdjusted')",
    ):
        event_type, payload = data
        initial[int(payload["id_key"])] += int(
            payload["stock"] if event_type == "ProductCreated" else payload["delta"]
        )
    docs = await postgres_snapshot(database_url)
    products = {i: orjson.loads(d) for i, d in docs["products"].items()}
    orders = {i: orjson.loads(d)["status"] for i, d in docs["orders"].items()}
    held: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # product -> [reserved, sold]
    for doc in docs["order_details"].values():
        line = orjson.loads(doc)
        status = orders.get(line["order_id"])
        if status in OPEN_STATUSES:
            held[line["product_id"]][0] += line["quantity"]
        elif status == DELIVERED:
            held[line["product_id"]][1] += line["quantity"]
    wrong = [
        f"product {p}: initial {initial[p]} != {doc['stock']} + {held[p][0]} + {held[p][1]}"
        for p, doc in sorted(products.items())
        if initial[p] != doc["stock"] + held[p][0] + held[p][1] or doc["stock"] < 0
    ]
    units = sum(initial.values())
    sold = sum(h[1] for h in held.values())
    return Check(
        "stock conserved",
        not wrong and set(initial) == set(products),
        "; ".join(wrong[:5])
        or f"{len(products)} products, {units} units: {sold} sold,"
        f" {sum(h[0] for h in held.values())} reserved",
    )


# resource -> (stream kind, the document field naming the stream's id)
_OWNERS = {
    "categories": ("category", "id_key"), "products": ("product", "id_key"),
    "clients": ("client", "id_key"), "addresses": ("client", "client_id"),
    "bills": ("bill", "id_key"), "orders": ("order", "id_key"),
    "order_details": ("order", "order_id"), "reviews": ("review", "id_key"),
}  # fmt: skip


def _created_stream(w: Write) -> str | None:
    """The stream a creation's answer says it wrote to."""
    if w.method != "POST" or w.document is None:
        return None
    kind, field = _OWNERS[w.path.strip("/")]
    return f"{kind}-{w.document[field]}"


async def writes_are_exactly_once(
    database_url: str, writes: list[Write], *, every_keyed_write: bool = True
) -> Check:
    """A write acknowledged with a consistency token: its events are one transaction, hold the
    token's position and, for a creation, the stream of the id it answered. A refusal or a
    no-op: no event. `every_keyed_write`: the ledger holds every write ever sent with an
    Idempotency-Key, so a key in the log that it does not know is a write nobody sent."""
    rows = await _rows(
        database_url,
        "SELECT metadata->>'idempotency_key', count(*), count(DISTINCT transaction_id),"
        " array_agg(global_position), array_agg(DISTINCT stream_id)"
        " FROM events WHERE metadata ? 'idempotency_key' GROUP BY 1",
    )
    logged = {row[0]: (row[1], row[2], set(row[3]), set(row[4])) for row in rows}
    problems: list[str] = []
    appended = nothing = unresolved = 0
    for w in writes:
        n, transactions, positions, streams = logged.get(w.key, (0, 0, set(), set()))
        if w.status is None:
            unresolved += 1
            if transactions > 1:
                problems.append(f"{w.method} {w.path} (unanswered) appended {transactions} times")
        elif w.token is not None:
            appended += 1
            created = _created_stream(w)
            if (
                transactions != 1
                or position_of(w.token) not in positions
                or (created is not None and created not in streams)
            ):
                problems.append(f"{w.method} {w.path} acknowledged: {n} events, {transactions} tx")
        else:
            nothing += 1
            if n:
                problems.append(f"{w.method} {w.path} -> {w.status} {w.code} left {n} events")
    ours = {w.key for w in writes}
    strangers = [key for key in logged if key not in ours] if every_keyed_write else []
    return Check(
        "acknowledged writes in the log exactly once",
        not problems and not strangers,
        "; ".join(problems[:5])
        or f"{appended} writes appended once each, {nothing} refused or no-op wrote nothing,"
        f" {unresolved} never answered"
        + (f"; {len(strangers)} keys in the log that no write sent" if strangers else ""),
    )


def reads_own_writes(tally: Tally) -> Check:
    own = tally.own_reads
    return Check(
        "read your writes" + " across instances" * (own["crossed"] > 0),
        own["stale"] == 0 and own["seen"] > 0,
        "; ".join(tally.stale[:3])
        or f"{own['seen']} creations read back with their token ({own['crossed']} from another"
        f" instance), {own['refused']} refused with a 503 or unanswered, none stale",
    )


async def erasures_leave_no_trace(
    database_url: str, redis_url: str, erasures: list[Erasure], kept: Mapping[int, frozenset[str]]
) -> Check:
    """Every erasure acknowledged: none of the person's values in any row of any table or any
    value of any key, and their documents (client, addresses) marked erased in both stores.
    An erasure never answered may or may not have happened: not held against the stores.
    `kept`: the values of clients not erased, each of whom the same search must find (else the
    search proves nothing)."""
    await wait_caught_up(database_url, redis_url)
    done = [e for e in erasures if e.write.acknowledged]
    redis = Redis.from_url(redis_url)
    try:
        chunks = await every_value(database_url, [redis])
    finally:
        await redis.aclose()
    left = found(frozenset().union(*(e.values for e in done)), chunks)
    text = "\n".join(chunks.values())
    missed = [c for c, values in kept.items() if not any(v in text for v in values)]
    erased = {e.client_id for e in done}
    stores: dict[str, Shown] = {
        "PostgreSQL": {
            t: dict(docs) for t, docs in (await postgres_snapshot(database_url)).items()
        },
        "Redis": (await redis_snapshot(redis_url))[0],
    }
    marked, unmarked = 0, []
    for store, docs in stores.items():
        for table, owner in (("clients", "id_key"), ("addresses", "client_id")):
            for raw in docs.get(table, {}).values():
                doc: dict[str, Any] = orjson.loads(raw) if raw is not None else {}
                if doc.get(owner) in erased:
                    marked += doc.get("erased") is True
                    if doc.get("erased") is not True:
                        unmarked.append(f"{store} {table} {doc['id_key']}")
    return Check(
        "erased clients leave no trace",
        not left and not unmarked and not missed and marked >= len(erased),
        "; ".join(
            [f"{v!r} in {where}: {around!r}" for v, where, around in left[:3]]
            + unmarked[:5]
            + [f"client {c} not erased, yet none of its values found" for c in missed[:3]]
        )
        or f"{len(done)} clients erased ({len(erasures) - len(done)} unanswered),"
        f" {sum(len(e.values) for e in done)} values searched in {len(chunks)} tables and keys:"
        f" none found (the values of {len(kept)} clients not erased: all found);"
        f" {marked} documents marked erased",
    )

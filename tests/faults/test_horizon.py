"""A long-open transaction that has written an event holds the sequencer's horizon: writes after
it commit but wait outside the feed. The query API's health and `orders projections status`
name the blocking backend; a read of a later write waits and says so rather than answer stale.
When the transaction commits, its event (lower position, later commit) and every later one
reach the feed and the read models, none skipped."""

from __future__ import annotations

import uuid

import orjson
import psycopg
import pytest

from domain import codec
from domain.category import CategoryCreated, category_name_claim
from eventstore import Claim, Expect, NewEvent, StreamAppend
from eventstore._append import append as append_on
from eventstore._connect import configure
from loadtest import invariants
from loadtest.cluster import Cluster
from loadtest.faults import BLOCKER_APPLICATION
from orders.consistency import position_of
from tests.faults.conftest import client, rounds
from tests.projection import eventually

pytestmark = pytest.mark.faults


async def open_late_writer(database_url: str) -> tuple[psycopg.AsyncConnection, int, int]:
    """A transaction that appends a category and stays open: (connection, category, position)."""
    conn = await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, application_name=BLOCKER_APPLICATION
    )
    await configure(conn)
    cur = await conn.execute("SELECT nextval('id_category')")
    row = await cur.fetchone()
    assert row is not None
    category = int(row[0])
    name = f"Late {uuid.uuid4().hex[:8]}"
    type_name, version, data = codec.encode(CategoryCreated(category, name))
    claim = category_name_claim(name)
    await conn.execute("BEGIN")
    drawn = await append_on(
        conn,
        [StreamAppend(f"category-{category}", Expect.NO_STREAM,
                      [NewEvent(type_name, data, version, {"actor": "faults"})])],
        claims=[Claim(claim.scope, claim.value, f"category-{category}")],
    )  # fmt: skip
    return conn, category, drawn.global_positions[0]


async def feed_position(database_url: str, global_position: int) -> int | None:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cur = await conn.execute(
            "SELECT feed_position FROM feed WHERE global_position = %s", (global_position,)
        )
        row = await cur.fetchone()
    return None if row is None else int(row[0])


async def test_a_long_open_transaction_is_named_and_nothing_behind_it_is_skipped(
    healed: Cluster,
) -> None:
    cluster = healed
    late, category, late_position = await open_late_writer(cluster.database_url)
    blocker = late.info.backend_pid
    try:
        async with (
            client(cluster.command_url) as api,
            client(cluster.query_url) as reads,
        ):
            later = []
            for i in range(rounds(3, 20)):
                response = await api.post("/categories", json={"name": f"After {i} {uuid.uuid4()}"})
                assert response.status_code == 201, response.text
                later.append(response)

            async def health_names_it() -> bool:
                report = (await reads.get("/health_check")).json()["checks"]["projections"]
                assert report["unsequenced"] >= len(later)
                named = [(b["pid"], b["application_name"]) for b in report["blockers"]]
                assert (blocker, BLOCKER_APPLICATION) in named
                return True

            await eventually(health_names_it, seconds=30)
            status = cluster.orders("projections", "status")
            assert f"pid {blocker} ({BLOCKER_APPLICATION})" in status, status
            token = later[-1].headers["x-consistency-token"]
            waiting = await reads.get(
                f"/categories/{later[-1].json()['id_key']}", headers={"X-Consistency-Token": token}
            )
            assert (waiting.status_code, waiting.json()["code"]) == (503, "projection_behind")
            assert await feed_position(cluster.database_url, late_position) is None

            await late.execute("COMMIT")
            await invariants.wait_caught_up(cluster.database_url, cluster.redis_url)

            for response in later:
                got = await reads.get(f"/categories/{response.json()['id_key']}")
                assert got.content == response.content
            shown = await reads.get(f"/categories/{category}")
            assert (shown.status_code, orjson.loads(shown.content)["id_key"]) == (200, category)
            health = (await reads.get("/health_check")).json()["checks"]["projections"]
            assert (health["unsequenced"], health["blockers"]) == (0, [])
    finally:
        await late.close()

    # committed last but begun first: sequenced before the writes that had to wait for it
    first_later = position_of(later[0].headers["x-consistency-token"])
    assert first_later is not None
    assert late_position < first_later
    late_fed = await feed_position(cluster.database_url, late_position)
    later_fed = await feed_position(cluster.database_url, first_later)
    assert late_fed is not None
    assert later_fed is not None
    assert late_fed < later_fed
    contiguous = await invariants.feed_is_contiguous(cluster.database_url)
    assert contiguous.passed, contiguous.detail
    verified = invariants.chain_verifies(cluster.orders)
    assert verified.passed, verified.detail

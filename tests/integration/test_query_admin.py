"""The operators' endpoints of the query API: where the projections stand, and rebuilds queued for
the projector's RQ workers (a real `orders projector` process runs them), behind
ORDERS_ADMIN_TOKEN."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from rq import Queue

from orders.wakeup import JOB, QUEUE
from projector import locks
from readmodels.status import read_status
from tests.conftest import TEST_DATA
from tests.projection import Process, eventually, live_generations, worker_env
from tests.query import AUDIT, DEAD_REDIS, Projected, query_client, query_settings
from tests.shop import Shop

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "operator-token-for-tests"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
STATUS = "/admin/projections"
REBUILDS = "/admin/projections/rebuilds"
ADMIN_CALLS = [("GET", STATUS), ("POST", REBUILDS), ("GET", f"{REBUILDS}/{uuid.uuid4()}")]


@pytest.fixture
async def admin(database_url: str, projected: Projected) -> AsyncIterator[httpx.AsyncClient]:
    """The query API with both tokens configured."""
    settings = query_settings(TEST_DATA, ORDERS_ADMIN_TOKEN=ADMIN_TOKEN)
    async with query_client(settings, database_url, projected.redis_url) as client:
        yield client


def projector(projected: Projected, log: Path) -> Process:
    """`orders projector --burst`: runs what is queued on the query API's Redis, then exits."""
    return Process(
        [sys.executable, "-m", "launch.cli", "projector", "--burst"],
        worker_env(projected.database_url, projected.redis_url),
        log,
    )


def finished(worker: Process, seconds: float = 120) -> None:
    assert worker.popen.wait(seconds) == 0, worker.output()


async def rebuild(api: httpx.AsyncClient, *names: str) -> httpx.Response:
    return await api.post(REBUILDS, json={"projections": list(names)}, headers=ADMIN)


async def holding(database_url: str, purpose: str, projection: str) -> psycopg.AsyncConnection:
    """A session holding a projector lock (as a runner or a rebuild elsewhere would)."""
    conn = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    await conn.execute("SELECT pg_advisory_lock(%s)", (locks.key(purpose, projection),))
    return conn


@pytest.mark.parametrize(("method", "path"), ADMIN_CALLS)
async def test_the_admin_endpoints_need_the_operators_token(
    method: str, path: str, admin: httpx.AsyncClient
) -> None:
    missing = await admin.request(method, path)
    assert (missing.status_code, missing.json()["code"]) == (401, "unauthorized")
    assert missing.headers["www-authenticate"] == "Bearer"
    assert set(missing.json()) == {"detail", "code", "request_id"}
    basic = await admin.request(method, path, headers={"Authorization": "Basic YTpi"})
    assert basic.status_code == 401
    for wrong in ({"Authorization": "Bearer not-the-token"}, AUDIT):  # auditors are not operators
        refused = await admin.request(method, path, headers=wrong)
        assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    right = await admin.request(method, path, headers=ADMIN)
    assert right.status_code in {200, 202, 404}, right.text
    if right.status_code == 404:  # the made-up rebuild id: not the door
        assert right.json()["code"] == "not_found"


@pytest.mark.parametrize("configured", [None, ""])
async def test_without_a_configured_token_the_admin_endpoints_refuse(
    configured: str | None, database_url: str, projected: Projected
) -> None:
    settings = query_settings(TEST_DATA, ORDERS_ADMIN_TOKEN=configured)
    async with query_client(settings, database_url, projected.redis_url) as api:
        for method, path in ADMIN_CALLS:
            for headers in ({}, ADMIN, {"Authorization": "Bearer "}):
                refused = await api.request(method, path, headers=headers)
                assert (refused.status_code, refused.json()["code"]) == (404, "admin_disabled")
        assert Queue(QUEUE, connection=_sync(projected.redis_url)).count == 0


async def test_the_status_shows_what_orders_projections_status_shows(
    shop: Shop, projected: Projected, admin: httpx.AsyncClient
) -> None:
    await shop.category()
    applied = await projected.catch_up()
    await shop.product()  # written, sequenced, not projected
    await projected.store.sequence()

    response = await admin.get(STATUS, headers=ADMIN)

    assert response.status_code == 200, response.text
    body = response.json()
    cli = await read_status(projected.store, projected.redis)
    assert (body["feed_head"], body["unsequenced"], body["blockers"]) == (cli.head, 0, [])
    assert cli.head > applied
    by_name = {p["name"]: p for p in body["projections"]}
    assert list(by_name) == [p.name for p in cli.projections]
    for p in cli.projections:
        view = by_name[p.name]
        assert (view["generation"], view["checkpoint"], view["lag_events"]) == (
            p.generation, p.position, p.lag_events,
        )  # fmt: skip
        assert view["redis"] == {"generation": 1, "position": p.redis_position}
        assert view["rebuilding"] is None
    assert by_name["products"]["checkpoint"] == applied
    assert by_name["products"]["lag_events"] == cli.head - applied
    assert by_name["products"]["lag_seconds"] > 0


async def test_the_status_names_the_transaction_that_holds_the_feed_back(
    shop: Shop, projected: Projected, admin: httpx.AsyncClient
) -> None:
    stuck = await psycopg.AsyncConnection.connect(
        projected.database_url, application_name="stuck-operator"
    )
    pid = stuck.info.backend_pid
    try:
        await stuck.execute("BEGIN")
        await stuck.execute("SELECT pg_current_xact_id()")  # it has a transaction id now
        await shop.category()  # commits after it began: waits behind it
        await projected.store.sequence()
        body = (await admin.get(STATUS, headers=ADMIN)).json()
    finally:
        await stuck.close()
    assert body["unsequenced"] >= 1
    assert [b["application_name"] for b in body["blockers"]] == ["stuck-operator"]
    assert body["blockers"][0]["pid"] == pid


async def test_a_rebuild_is_queued_for_the_projector_and_read_back_when_done(
    shop: Shop, projected: Projected, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    product = await shop.product()
    head = await projected.catch_up()

    queued = await rebuild(admin, "products")
    assert queued.status_code == 202, queued.text
    location = queued.headers["location"]
    assert location == f"{REBUILDS}/{queued.json()['id']}"
    assert queued.json()["status"] == "queued"
    assert queued.json()["projections"] == ["products"]
    # the API queued it and went on: nothing rebuilt until a worker takes it
    assert (await live_generations(projected.store))["products"] == 1
    again = await rebuild(admin, "orders", "products")
    assert (again.status_code, again.json()["code"]) == (409, "rebuild_in_progress")
    assert again.headers["location"] == location
    other = await rebuild(admin, "reviews")  # no overlap: queued too
    assert other.status_code == 202, other.text

    finished(projector(projected, tmp_path / "worker.log"))

    done = await admin.get(location, headers=ADMIN)
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["status"], body["error"], body["progress"]) == ("finished", None, [])
    assert body["started_at"] <= body["ended_at"]
    [result] = body["result"]
    assert result["projection"] == "products"
    assert (result["generation"], result["replaced"], result["position"]) == (2, 1, head)
    generations = await live_generations(projected.store)
    assert (generations["products"], generations["reviews"], generations["orders"]) == (2, 2, 1)
    status = {p["name"]: p for p in (await admin.get(STATUS, headers=ADMIN)).json()["projections"]}
    assert (status["products"]["generation"], status["products"]["lag_events"]) == (2, 0)
    assert (await admin.get(f"/products/{product}")).status_code == 200
    assert (await rebuild(admin, "products")).status_code == 202  # done: another may start


async def test_a_running_rebuild_shows_its_progress(
    shop: Shop, projected: Projected, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    for _ in range(3):
        await shop.product()
    head = await projected.catch_up()
    # the rebuild replays, then waits to switch while the live runner "holds" products
    live = await holding(projected.database_url, "live", "products")
    worker = None
    try:
        location = (await rebuild(admin, "products")).headers["location"]
        worker = projector(projected, tmp_path / "worker.log")

        async def replayed() -> dict[str, Any]:
            body: dict[str, Any] = (await admin.get(location, headers=ADMIN)).json()
            assert body["status"] == "started"
            assert body["progress"]
            assert body["progress"][0]["position"] == head
            return body

        await eventually(replayed, seconds=60)
        [progress] = (await replayed())["progress"]
        assert (progress["projection"], progress["generation"]) == ("products", 2)
        assert progress["head"] >= head
        assert progress["events_per_second"] > 0
        assert progress["eta_seconds"] == 0
        assert progress["events_loaded"] >= 3  # its loader folded the products' events
    finally:
        await live.close()
    finished(worker)
    assert (await admin.get(location, headers=ADMIN)).json()["status"] == "finished"


async def test_a_rebuild_that_cannot_run_says_why(
    projected: Projected, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    elsewhere = await holding(projected.database_url, "rebuild", "products")
    try:
        location = (await rebuild(admin, "products")).headers["location"]
        finished(projector(projected, tmp_path / "worker.log"))
    finally:
        await elsewhere.close()
    body = (await admin.get(location, headers=ADMIN)).json()
    assert (body["status"], body["result"]) == ("failed", None)
    assert body["error"].endswith("a rebuild of products is already running")


async def test_no_body_rebuilds_every_projection(
    projected: Projected, admin: httpx.AsyncClient
) -> None:
    queued = await admin.post(REBUILDS, headers=ADMIN)
    assert queued.status_code == 202, queued.text
    names = ["categories", "products", "clients", "bills", "orders", "reviews"]
    assert queued.json()["projections"] == names


@pytest.mark.parametrize(
    "body",
    [
        {"projections": ["nonsense"]},
        {"projections": "products"},
        {"projections": ["products"], "force": True},
        {"projections": ["products"] * 101},
        [1, 2],
    ],
)
async def test_a_malformed_rebuild_request_is_a_422(
    body: Any, projected: Projected, admin: httpx.AsyncClient
) -> None:
    response = await admin.post(REBUILDS, json=body, headers=ADMIN)
    assert (response.status_code, response.json()["code"]) == (422, "validation_error")
    assert Queue(QUEUE, connection=_sync(projected.redis_url)).count == 0


async def test_unknown_or_malformed_rebuild_ids_are_refused(
    projected: Projected, admin: httpx.AsyncClient
) -> None:
    queue = Queue(QUEUE, connection=_sync(projected.redis_url))
    wake_up = queue.enqueue(JOB, job_id=str(uuid.uuid4()))  # a job, but not a rebuild
    for path, status in [
        (f"{REBUILDS}/not-a-uuid", 422),
        (f"{REBUILDS}/{uuid.uuid4()}", 404),
        (f"{REBUILDS}/{wake_up.id}", 404),
    ]:
        response = await admin.get(path, headers=ADMIN)
        assert response.status_code == status, (path, response.text)
    broken = await admin.post(
        REBUILDS, content=b"{not json", headers={**ADMIN, "content-type": "application/json"}
    )
    assert broken.status_code == 422


async def test_without_redis_a_rebuild_cannot_be_queued_and_says_so(
    database_url: str, projected: Projected
) -> None:
    settings = query_settings(TEST_DATA, ORDERS_ADMIN_TOKEN=ADMIN_TOKEN)
    async with query_client(settings, database_url, DEAD_REDIS) as api:
        for response in (
            await rebuild(api, "products"),
            await api.get(f"{REBUILDS}/{uuid.uuid4()}", headers=ADMIN),
        ):
            assert (response.status_code, response.json()["code"]) == (
                503, "rebuild_queue_unavailable",
            )  # fmt: skip
            assert response.headers["retry-after"] == "1"
        status = await api.get(STATUS, headers=ADMIN)  # PostgreSQL still answers
        assert status.status_code == 200
        assert all(p["redis"] is None for p in status.json()["projections"])


async def test_the_admin_endpoints_are_in_the_openapi_document(admin: httpx.AsyncClient) -> None:
    spec = (await admin.get("/openapi.json")).json()
    start = spec["paths"][REBUILDS]["post"]
    assert {"202", "401", "403", "409", "422", "503"} <= set(start["responses"])
    assert start["security"] == [{"AdminToken": []}]
    assert spec["paths"][STATUS]["get"]["security"] == [{"AdminToken": []}]
    assert "AdminToken" in spec["components"]["securitySchemes"]


def _sync(url: str) -> Any:
    return redis.Redis.from_url(url)

"""The read side on a three-master Redis Cluster (`redis+cluster://`), with the queue, the wake-up
flag and the rate limiter on the suite's single Redis (`REDIS_QUEUE_URL`).

Tests written for one Redis run here unchanged, on the cluster: this module's `redis_url` and
`projected` fixtures stand in for the conftest's, so the projector's catch-up, reload and rebuild
(generation swap and drop), the query API's documents, lists, filters and pages, and its health
check's Redis positions are checked as they are on one Redis, byte for byte."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis, RedisCluster
from redis.crc import key_slot

from orders.embedded import Endpoints
from orders.redis_client import open_read_redis
from orders.rediscluster import LocalCluster, start_cluster
from projector import live
from projector.engine import Engine, open_engine
from readmodels.schema import PROJECTIONS, applied_key
from tests.conftest import TEST_DATA
from tests.integration.test_projector_catch_up import (  # noqa: F401 - run here, on the cluster
    test_every_write_lands_in_both_read_models_as_the_api_answered,
)
from tests.integration.test_projector_rebuild import (  # noqa: F401 - run here, on the cluster
    test_a_rebuild_while_writes_go_on_keeps_answering_and_loses_no_event,
)
from tests.integration.test_projector_redis import (  # noqa: F401 - run here, on the cluster
    test_a_flushed_redis_is_repopulated_from_postgresql,
    test_a_generation_written_in_the_older_layout_is_reloaded_and_its_keys_removed,
    test_redis_ahead_of_postgresql_is_replaced_by_what_postgresql_holds,
)
from tests.integration.test_query_reads import (  # noqa: F401 - run here, on the cluster
    test_concurrent_reads_each_get_their_own_answer,
    test_every_document_is_the_command_api_rendering_byte_for_byte,
    test_every_list_is_its_documents_in_id_order,
    test_filters_select_the_matching_documents,
    test_skip_and_limit_page_through_in_id_order,
    world,
)
from tests.integration.test_query_service import (  # noqa: F401 - run here, on the cluster
    test_the_health_check_reports_each_projections_lag,
)
from tests.keys import MASTER
from tests.query import (
    QUERY_REDIS_DB,
    Projected,
    flushed,
    query_client,
    query_settings,
    with_redis_db,
)
from tests.shop import Shop

pytestmark = pytest.mark.integration


@pytest.fixture
async def cluster(redis_cluster: LocalCluster) -> AsyncIterator[RedisCluster]:
    """A client of the session's cluster, every node flushed for the test."""
    redis = open_read_redis(redis_cluster.url, timeout=5.0)
    assert isinstance(redis, RedisCluster)
    await redis.flushdb()  # on every primary
    yield redis
    await redis.aclose()


@pytest.fixture
def redis_url(redis_cluster: LocalCluster, cluster: RedisCluster) -> str:
    """The projector tests' Redis: the cluster."""
    assert cluster
    return redis_cluster.url


@pytest.fixture
async def queue_url(servers: Endpoints) -> str:
    """The queue's Redis: one database of the suite's single Redis, empty."""
    return await flushed(with_redis_db(servers.redis_url, QUERY_REDIS_DB))


@pytest.fixture
async def projected(
    database_url: str, redis_url: str, queue_url: str, cluster: RedisCluster
) -> AsyncIterator[Projected]:
    """The query tests' read models: on the cluster, the queue on the single Redis."""
    engine = await open_engine(database_url, redis_url, master=MASTER)
    try:
        yield Projected(engine, cluster, redis_url, database_url, queue_url)
    finally:
        await engine.close()


async def test_a_generations_keys_share_a_slot_and_the_projections_spread_over_the_nodes(
    shop: Shop, engine: Engine, cluster: RedisCluster
) -> None:
    """What makes the scripts legal on a cluster, checked on the keys the projector wrote."""
    await shop.category("Shelves")
    await shop.client()
    await live.follow(engine)
    keys = [key.decode() async for key in cluster.scan_iter(match="rm:{*")]  # not rm:live:*
    slots: dict[str, set[int]] = {}
    for key in keys:
        tag = key[key.index("{") + 1 : key.index("}")]
        slots.setdefault(tag, set()).add(key_slot(key.encode()))
    assert {f"{p.name}:g1" for p in PROJECTIONS} <= set(slots)
    assert all(len(held) == 1 for held in slots.values()), slots
    nodes = {cluster.get_node_from_key(applied_key(p.name, 1)).name for p in PROJECTIONS}
    assert len(nodes) > 1  # a cluster of one projection's node would prove nothing about slots


async def test_the_rate_limiter_counts_on_the_queue_redis_not_on_the_cluster(
    database_url: str, projected: Projected, queue_url: str, cluster: RedisCluster
) -> None:
    settings = query_settings(TEST_DATA, RATE_LIMIT_ENABLED="true", RATE_LIMIT_CALLS=2)
    async with query_client(settings, database_url, projected.redis_url, queue_url) as api:
        statuses = await _counted(api, 3)
    assert statuses == [200, 200, 429]
    queue = Redis.from_url(queue_url)
    try:
        assert await queue.keys("orders:ratelimit:*") != []
    finally:
        await queue.aclose()
    assert [k async for k in cluster.scan_iter(match="orders:ratelimit:*")] == []


async def _counted(api: httpx.AsyncClient, n: int, seconds: float = 10.0) -> list[int]:
    """The statuses of the first `n` requests the limiter counted (those carrying its headers).
    On a busy machine its first call (a connection, the script's load) can pass its 0.5 s
    timeout: it then lets requests through uncounted for a second (fail open), which is its
    documented behaviour, not what this test is about."""
    statuses: list[int] = []
    deadline = asyncio.get_running_loop().time() + seconds
    while len(statuses) < n and asyncio.get_running_loop().time() < deadline:
        answer = await api.get("/categories")
        if "x-ratelimit-limit" in answer.headers:
            statuses.append(answer.status_code)
        else:
            await asyncio.sleep(0.2)
    return statuses


async def test_reads_whose_node_is_gone_fall_back_to_postgresql(
    shop: Shop, database_url: str, queue_url: str, tmp_path: Path
) -> None:
    """A cluster of the test's own: one node is stopped, the reads it served go to PostgreSQL
    (a 200 from `postgres`, never a 500), as they do when a single Redis is down."""
    own = start_cluster(tmp_path / "cluster")
    try:
        created = [await shop.category(f"Shelf {n}") for n in range(3)]
        engine = await open_engine(database_url, own.url, master=MASTER)
        try:
            await live.follow(engine)
        finally:
            await engine.close()
        settings = query_settings(TEST_DATA)
        async with query_client(settings, database_url, own.url, queue_url) as api:
            before = await api.get("/categories?limit=2")
            own.stop_node(own.node_port(applied_key("categories", 1)))
            after = await api.get("/categories?limit=2")
            one = await api.get(f"/categories/{created[2]}")
    finally:
        own.stop()
    assert before.headers["x-read-source"] == "redis"
    assert (after.status_code, after.headers["x-read-source"]) == (200, "postgres")
    assert after.content == before.content
    assert [d["id_key"] for d in after.json()] == created[:2]
    assert (one.status_code, one.json()["id_key"]) == (200, created[2])

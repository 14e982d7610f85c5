"""When Redis misses or is down, the same answers come from the PostgreSQL read models, and the
response says so."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from readmodels.schema import TABLES, live_generation_key
from tests.conftest import TEST_DATA
from tests.integration.query_world import World, build_world
from tests.integration.web_demo import DEAD_DATABASE
from tests.query import DEAD_REDIS, Projected, query_client, query_settings
from tests.shop import Shop

pytestmark = pytest.mark.integration

Answer = tuple[int, bytes, str | None, str]  # status, body, ETag, projection position


@pytest.fixture
async def world(shop: Shop, command_api: httpx.AsyncClient, projected: Projected) -> World:
    built = await build_world(shop, command_api)
    await projected.catch_up()
    return built


async def answers(api: httpx.AsyncClient, paths: list[str]) -> tuple[dict[str, Answer], set[str]]:
    """Each path's answer, and the sources that served the non-empty ones."""
    out: dict[str, Answer] = {}
    sources = set()
    for path in paths:
        r = await api.get(path, headers={"X-Request-ID": "0f8b1c2e-3d4a-4b5c-8d6e-7f8091a2b3c4"})
        out[path] = (r.status_code, r.content, r.headers.get("etag"),
                     r.headers["x-projection-position"])  # fmt: skip
        if r.status_code == 200 and r.content != b"[]":
            sources.add(r.headers["x-read-source"])
    return out, sources


async def test_with_redis_flushed_the_answers_are_the_same_from_postgresql(
    world: World, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    from_redis, sources = await answers(query_api, world.paths())
    assert sources == {"redis"}
    await projected.redis.flushdb()
    from_postgres, sources = await answers(query_api, world.paths())
    assert sources == {"postgres"}
    assert from_postgres == from_redis


async def test_with_redis_unreachable_the_answers_are_the_same_from_postgresql(
    world: World, database_url: str, query_api: httpx.AsyncClient
) -> None:
    from_redis, _ = await answers(query_api, world.paths())
    async with query_client(query_settings(TEST_DATA), database_url, DEAD_REDIS) as no_redis:
        started = asyncio.get_running_loop().time()
        from_postgres, sources = await answers(no_redis, world.paths())
        elapsed = asyncio.get_running_loop().time() - started
        health = await no_redis.get("/health_check")
    assert sources == {"postgres"}
    assert from_postgres == from_redis
    assert elapsed < 10, "a dead Redis must not cost a timeout per request"
    assert health.status_code == 200
    assert health.json()["checks"]["redis"]["status"] == "down"


async def test_a_document_missing_from_redis_is_read_from_postgresql(
    world: World, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    lost, kept = world.product[0], world.product[1]
    before = await query_api.get(f"/products/{lost}")
    listed = await query_api.get("/products")
    await projected.redis.hdel(f"{TABLES['products'].redis_prefix(1)}docs", str(lost))
    after = await query_api.get(f"/products/{lost}")
    assert (after.content, after.headers["etag"]) == (before.content, before.headers["etag"])
    assert after.headers["x-read-source"] == "postgres"
    assert (await query_api.get(f"/products/{kept}")).headers["x-read-source"] == "redis"
    page = await query_api.get("/products")  # its index still names the lost document
    assert (page.content, page.headers["x-read-source"]) == (listed.content, "postgres")


async def test_an_index_missing_from_redis_is_read_from_postgresql(
    world: World, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    path = f"/orders?client_id={world.client[0]}"
    before = await query_api.get(path)
    assert before.headers["x-read-source"] == "redis"
    name = f"client_id={world.client[0]}"
    index = f"{TABLES['orders'].redis_prefix(1)}index"
    assert await projected.redis.zremrangebylex(index, f"[{name}\0", f"({name}\1") > 0
    after = await query_api.get(path)
    assert (after.content, after.headers["x-read-source"]) == (before.content, "postgres")


async def test_a_switched_generation_is_followed_without_a_wrong_answer(
    world: World, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    redis = projected.redis
    before = await query_api.get("/categories")  # caches generation 1
    for key in [k async for k in redis.scan_iter(match="rm:*g1*")]:
        renamed = key.replace(b":g1:", b":g2:").replace(b":g1", b":g2")
        await redis.rename(key, renamed)
    await redis.set(live_generation_key("categories"), 2)
    during = await query_api.get("/categories")  # generation 1 is gone: PostgreSQL answers
    after = await query_api.get("/categories")  # generation 2 is read from Redis
    assert before.content == during.content == after.content
    assert during.headers["x-read-source"] == "postgres"
    assert after.headers["x-read-source"] == "redis"


async def test_with_both_stores_down_a_read_is_a_503(servers: object) -> None:
    async with query_client(query_settings(TEST_DATA), DEAD_DATABASE, DEAD_REDIS) as nothing:
        response = await nothing.get("/categories/1")
    assert response.status_code == 503
    assert response.json()["code"] == "read_models_unavailable"
    assert response.headers["retry-after"] == "1"


async def test_a_redis_that_forgot_its_scripts_still_serves_lists_and_documents(
    world: World, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    """Both reads are scripts: alone in a turn (one EVALSHA) and together (one pipeline)."""
    paths = ["/products", f"/products/{world.product[0]}"]
    before = [await query_api.get(path) for path in paths]
    for path, was in zip(paths, before, strict=True):
        await projected.redis.script_flush()
        after = await query_api.get(path)
        assert (after.content, after.headers["x-read-source"]) == (was.content, "redis")
    await projected.redis.script_flush()
    together = await asyncio.gather(*(query_api.get(path) for path in paths))
    assert [(r.content, r.headers["x-read-source"]) for r in together] == [
        (r.content, "redis") for r in before
    ]

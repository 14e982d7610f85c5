"""The query API's FastAPI app: the read models (Redis, then PostgreSQL), the event store for the
auditors, the operators' admin endpoints, the routes, the projections' lag in the health check
and in `/metrics`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware

from orders.metrics import add_metrics
from orders.notices import ErasureNotices
from orders.redis_client import open_read_redis, open_redis
from orders.settings import Settings
from orders.signed_checkpoints.sink import DirectorySink
from orders.store import open_sealed_store
from orders.vault import master_key
from orders.web import Backends, Level, build_app
from orders.web.auth import build_gates
from query_api.admin import build_admin_router
from query_api.audit import build_audit_router
from query_api.checkpoints import build_checkpoints_router
from query_api.errors import ERRORS
from query_api.hotpath import HotPathMiddleware, hot_routes
from query_api.lag import observe_lag, read_lag
from query_api.postgres_source import PostgresSource
from query_api.readmodels import ReadModels
from query_api.rebuilds import RebuildQueue
from query_api.redis_source import RedisSource
from query_api.routes import build_routers
from query_api.slashes import TrailingSlashMiddleware

# A read that Redis does not answer within this goes to PostgreSQL (and Redis is left alone for
# a moment). A healthy Redis answers a whole turn's reads in a millisecond or two; the margin is
# for a busy machine, where sending everyone to PostgreSQL would only make matters worse.
REDIS_TIMEOUT_SECONDS = 0.5

DESCRIPTION = """Reads of the order platform, from the projections of the event store: Redis
first, PostgreSQL when Redis misses or is down (`X-Read-Source` says which), with the feed
position each answer reflects (`X-Projection-Position`). Send a command API response's
`X-Consistency-Token` to read your own write. Auditors (bearer `ORDERS_AUDIT_TOKEN`) read
histories, states as of a time or feed position, the global feed, the hash-chain check and the
chain's signed checkpoints.
Operators (bearer `ORDERS_ADMIN_TOKEN`) read where the projections stand and queue rebuilds."""


def create_app(
    settings: Settings, database_url: str, redis_url: str, *, queue_url: str | None = None
) -> FastAPI:
    """`redis_url`: the read models' Redis (a `redis+cluster://` one: a cluster); `queue_url`:
    the Redis of the rebuild queue, erasure notices and the rate limiter (default: the same)."""
    queue = queue_url or redis_url

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Backends]:
        store, vault = await open_sealed_store(
            database_url, master=master_key(settings), max_size=settings.db_pool_size,
            application_name="query-api",
        )  # fmt: skip
        notices = ErasureNotices(queue)
        if vault is not None:  # an erased person's keys go from here at once
            notices.listen(vault.forget)
        redis = open_read_redis(redis_url, timeout=REDIS_TIMEOUT_SECONDS)
        limits = None if queue == redis_url else open_redis(queue, timeout=REDIS_TIMEOUT_SECONDS)
        rebuilds = RebuildQueue(queue)
        app.state.store, app.state.redis, app.state.rebuilds = store, redis, rebuilds
        app.state.reads = ReadModels(
            RedisSource(redis), PostgresSource(store), wait_seconds=settings.consistency_wait
        )
        try:
            yield Backends(db_pool=store.pool, redis=redis, limits=limits)
        finally:
            rebuilds.close()
            await notices.close()
            await redis.aclose()
            if limits is not None:
                await limits.aclose()
            await store.close()

    async def projections() -> tuple[str, dict[str, Any], Level]:
        report, level = await read_lag(app.state.store, app.state.redis)
        return "projections", report, level

    async def lag_gauges() -> None:
        await observe_lag(app.state.store, app.state.redis)

    app = build_app(
        "Orders query API",
        settings,
        lifespan=lifespan,
        errors=ERRORS,
        health_checks=[projections],
        reads_from_redis=True,  # with PostgreSQL down, Redis still answers: degraded, not down
        rate_limit_prefix="orders:ratelimit:query:",
        description=DESCRIPTION,
    )
    app.state.gates = build_gates(settings)
    app.state.checkpoints = DirectorySink(settings.checkpoints_path.resolve())
    reads = build_routers()
    for router in reads:  # the hot routes first: routes are matched in order
        app.include_router(router)
    app.include_router(build_audit_router())
    app.include_router(build_checkpoints_router())
    app.include_router(build_admin_router())
    # innermost, after the shared layer: the request id, CORS and the limiter see the path as sent
    app.user_middleware.append(Middleware(TrailingSlashMiddleware))
    hot = hot_routes([route for router in reads for route in router.routes])
    app.user_middleware.append(Middleware(HotPathMiddleware, state=app.state, routes=hot))
    add_metrics(app, "query-api", refresh=lag_gauges)  # outermost: times the whole request
    return app

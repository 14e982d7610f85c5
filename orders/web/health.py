"""`GET /health_check`: the original's components and thresholds, 503 when critical.

    database  up/down, latency of `SELECT 1`: warning >= 100 ms, degraded >= 500 ms, critical
              only when down (no answer within the probe's time while the pool had room)
    redis     up/down: down is "degraded" (the platform works without it, slower)
    db_pool   connections in use / pool maximum: warning >= 70 %, degraded >= 90 %

The original graded a slow database and a full pool critical. Behind a load balancer a 503
takes the instance out of rotation, and at saturation every instance is slow and busy at once:
load alone would pull them all and turn a busy platform into a dead one. So load is at most
"degraded" (a 200, still in rotation), and only a dependency that is down or does not answer
is critical. The reports keep the original's shape and its thresholds (`critical_ms`,
`critical_percent` name the values past which the original said critical).

Overall: critical if any check is critical, else degraded, else warning, else healthy. An API
that serves reads from Redis (the query API) reports a down database as degraded while Redis
answers, with `reads` naming the sources it still has.
An API adds its own checks (the query API: projection lag) as async callables returning
`(name, report, level)`; a check that raises or times out is reported as "degraded".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import FastAPI
from psycopg_pool import AsyncConnectionPool
from starlette.responses import JSONResponse

from orders.redis_client import AnyRedis
from orders.web.backends import Backends

log = logging.getLogger("orders.web.health")

Level = Literal["healthy", "warning", "degraded", "critical"]
Report = dict[str, Any]
ExtraCheck = Callable[[], Awaitable[tuple[str, Report, Level]]]

_SEVERITY: dict[Level, int] = {"healthy": 0, "warning": 1, "degraded": 2, "critical": 3}
LATENCY_MS = {"warning_ms": 100, "critical_ms": 500}
POOL_PERCENT = {"warning_percent": 70, "critical_percent": 90}


def overall(levels: Sequence[Level]) -> Level:
    return max(levels, key=_SEVERITY.__getitem__, default="healthy")


def _graded(value: float, warning: float, critical: float) -> Level:
    """Load's grade: past the original's critical threshold it is degraded, never critical."""
    if value >= critical:
        return "degraded"
    if value >= warning:
        return "warning"
    return "healthy"


def _database_down() -> tuple[Report, Level]:
    report = {"status": "down", "health": "critical", "latency_ms": None, "thresholds": LATENCY_MS}
    return report, "critical"


def _saturated(pool: AsyncConnectionPool) -> bool:
    stats = pool.get_stats()
    return stats.get("pool_size", 0) - stats.get("pool_available", 0) >= pool.max_size


async def check_database(pool: AsyncConnectionPool | None, seconds: float) -> tuple[Report, Level]:
    if pool is None:
        return _database_down()
    saturated = _saturated(pool)  # before the probe waits for a connection
    started = time.perf_counter()
    try:
        async with asyncio.timeout(seconds), pool.connection(timeout=seconds) as conn:
            await conn.execute("SELECT 1")
    except Exception as e:  # noqa: BLE001 - any failure means "down"; the reason goes to the log
        if saturated and _saturated(pool):
            # every connection was busy all along: the probe queued behind the load, the
            # database did not fail it (a dead one fails the connections in use, freeing them)
            log.warning("health: database busy, pool exhausted: %s", type(e).__name__)
            busy: Report = {"status": "up", "health": "degraded", "latency_ms": None,
                            "thresholds": LATENCY_MS, "detail": "pool in use"}  # fmt: skip
            return busy, "degraded"
        log.warning("health: database down: %s: %s", type(e).__name__, e)
        return _database_down()
    latency_ms = round((time.perf_counter() - started) * 1000, 2)
    level = _graded(latency_ms, LATENCY_MS["warning_ms"], LATENCY_MS["critical_ms"])
    report: Report = {"status": "up", "health": level, "latency_ms": latency_ms,
                      "thresholds": LATENCY_MS}  # fmt: skip
    return report, level


async def check_redis(redis: AnyRedis | None, seconds: float) -> tuple[Report, Level]:
    down: tuple[Report, Level] = ({"status": "down", "health": "degraded"}, "degraded")
    if redis is None:
        return down
    try:
        async with asyncio.timeout(seconds):
            await redis.ping()
    except Exception as e:  # noqa: BLE001 - any failure means "down"; the reason goes to the log
        log.warning("health: redis down: %s: %s", type(e).__name__, e)
        return down
    return {"status": "up", "health": "healthy"}, "healthy"


def check_pool(pool: AsyncConnectionPool | None) -> tuple[Report, Level]:
    if pool is None:
        return {"status": "down", "health": "critical", "thresholds": POOL_PERCENT}, "critical"
    stats = pool.get_stats()
    size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
    in_use = size - available
    utilization = round(in_use / pool.max_size * 100, 1)
    level = _graded(utilization, POOL_PERCENT["warning_percent"], POOL_PERCENT["critical_percent"])
    report = {
        "health": level,
        "size": pool.max_size,
        "open": size,
        "checked_in": available,
        "checked_out": in_use,
        "waiting": stats.get("requests_waiting", 0),
        "utilization_percent": utilization,
        "thresholds": POOL_PERCENT,
    }
    return report, level


async def _run_extra(check: ExtraCheck, seconds: float) -> tuple[str, Report, Level]:
    name = getattr(check, "__name__", "check")
    try:
        async with asyncio.timeout(seconds):
            return await check()
    except Exception as e:  # noqa: BLE001 - one broken check must not break the health check
        log.warning("health: check %s failed: %s: %s", name, type(e).__name__, e)
        return name, {"status": "error", "health": "degraded"}, "degraded"


async def read_health(
    backends: Backends,
    extra: Sequence[ExtraCheck] = (),
    *,
    seconds: float = 2.0,
    reads_from_redis: bool = False,
) -> Report:
    """The health document; `status` is the overall level. Each probe gets `seconds`.

    `reads_from_redis`: the API serves reads from Redis when the database is down (the query
    API), so a down database with Redis up is degraded, not critical, and `reads` says so."""
    pool_report, pool_level = check_pool(backends.db_pool)  # before the probe borrows one
    core = asyncio.gather(
        check_database(backends.db_pool, seconds), check_redis(backends.redis, seconds)
    )
    more = asyncio.gather(*(_run_extra(check, seconds) for check in extra))
    ((db_report, db_level), (redis_report, redis_level)), extras = await asyncio.gather(core, more)
    checks: Report = {"database": db_report, "redis": redis_report, "db_pool": pool_report}
    levels: list[Level] = [db_level, redis_level, pool_level]
    for name, report, level in extras:
        checks[name] = report
        levels.append(level)
    if reads_from_redis:
        checks["reads"] = _reads(db_report, redis_report)
        if checks["reads"]["sources"] == ["redis"]:
            levels[0] = db_report["health"] = "degraded"
    return {
        "status": overall(levels),
        "timestamp": datetime.now(UTC).isoformat(),
        "checks": checks,
    }


def _reads(db_report: Report, redis_report: Report) -> Report:
    sources = [name for name, report in (("redis", redis_report), ("postgres", db_report))
               if report["status"] == "up"]  # fmt: skip
    if sources != ["redis"]:
        return {"sources": sources}
    return {
        "sources": sources,
        "detail": "PostgreSQL is down: reads are served from Redis only; reads that need"
        " PostgreSQL (a consistency token, a miss, the audit) answer 503",
    }


_EXAMPLE = {
    "status": "healthy",
    "timestamp": "2025-01-01T00:00:00+00:00",
    "checks": {
        "database": {"status": "up", "health": "healthy", "latency_ms": 1.2,
                     "thresholds": LATENCY_MS},
        "redis": {"status": "up", "health": "healthy"},
        "db_pool": {"health": "healthy", "size": 20, "open": 2, "checked_in": 2,
                    "checked_out": 0, "waiting": 0, "utilization_percent": 0.0,
                    "thresholds": POOL_PERCENT},
    },
}  # fmt: skip


def add_health_route(
    app: FastAPI,
    backends: Backends,
    extra: Sequence[ExtraCheck] = (),
    *,
    seconds: float = 2.0,
    reads_from_redis: bool = False,
) -> None:
    """`GET /health_check` and `/health_check/` (no redirect) on the app."""

    async def health_check() -> JSONResponse:
        report = await read_health(
            backends, extra, seconds=seconds, reads_from_redis=reads_from_redis
        )
        return JSONResponse(report, status_code=503 if report["status"] == "critical" else 200)

    responses: dict[int | str, dict[str, Any]] = {
        200: {"description": "Healthy, warning or degraded.",
              "content": {"application/json": {"example": _EXAMPLE}}},
        503: {"description": "Critical: the database is down or does not answer (load alone is"
              " at most degraded, a 200)."},
    }  # fmt: skip
    for path, documented in (("/health_check", True), ("/health_check/", False)):
        app.add_api_route(
            path,
            health_check,
            methods=["GET"],
            tags=["health"],
            summary="Health of the API and its backing services",
            responses=responses,
            include_in_schema=documented,
        )

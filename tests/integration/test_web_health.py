"""`GET /health_check`: the original's components and thresholds against real servers, and 503
when the database is gone."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest
from httpx import Response

from orders.embedded import Endpoints
from orders.web import Backends, Level, read_health
from orders.web.health import LATENCY_MS, POOL_PERCENT, _graded, overall
from tests.integration.web_demo import (
    DEAD_DATABASE,
    DEAD_REDIS,
    demo_app,
    demo_settings,
    serving,
)

pytestmark = pytest.mark.integration


async def test_a_healthy_platform_reports_every_component(
    servers: Endpoints, database_url: str
) -> None:
    app = demo_app(demo_settings(), redis_url=servers.redis_url, database_url=database_url)
    async with serving(app) as http:
        response = await http.get("/health_check")
        with_slash = await http.get("/health_check/")
    assert response.status_code == 200
    assert with_slash.status_code == 200  # served, not redirected
    report = response.json()
    assert report["status"] in {"healthy", "warning"}  # a busy machine may be slow
    assert set(report) == {"status", "timestamp", "checks"}
    database, redis, pool = (report["checks"][k] for k in ("database", "redis", "db_pool"))
    assert database["status"] == "up"
    assert database["health"] in {"healthy", "warning"}
    assert isinstance(database["latency_ms"], float)
    assert database["thresholds"] == {"warning_ms": 100, "critical_ms": 500}
    assert redis == {"status": "up", "health": "healthy"}
    assert pool["size"] == 4
    assert pool["checked_in"] + pool["checked_out"] <= pool["size"]
    assert pool["utilization_percent"] < 70
    assert pool["thresholds"] == {"warning_percent": 70, "critical_percent": 90}


async def test_an_unreachable_database_is_critical_and_a_503(servers: Endpoints) -> None:
    app = demo_app(demo_settings(), redis_url=servers.redis_url, database_url=DEAD_DATABASE)
    async with serving(app) as http:
        response = await http.get("/health_check")
    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "critical"
    assert report["checks"]["database"]["status"] == "down"
    assert report["checks"]["database"]["health"] == "critical"
    assert report["checks"]["database"]["latency_ms"] is None
    assert report["checks"]["redis"]["status"] == "up"


async def test_an_unreachable_redis_is_degraded_but_still_a_200(
    database_url: str,
) -> None:
    app = demo_app(demo_settings(), redis_url=DEAD_REDIS, database_url=database_url)
    async with serving(app) as http:
        response = await http.get("/health_check")
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "degraded"
    assert report["checks"]["redis"] == {"status": "down", "health": "degraded"}
    assert report["checks"]["database"]["status"] == "up"


async def _health_with_held(
    servers: Endpoints, database_url: str, *, size: int, held: int
) -> tuple[Response, Response]:
    """The health check while `held` of the pool's `size` connections are in use, and after."""
    app = demo_app(
        demo_settings(), redis_url=servers.redis_url, database_url=database_url, pool_size=size
    )
    async with serving(app) as http:
        pool = app.state.backends.db_pool
        async with AsyncExitStack() as stack:
            for _ in range(held):
                await stack.enter_async_context(pool.connection())
            during = await http.get("/health_check")
        return during, await http.get("/health_check")


async def test_a_pool_ninety_percent_in_use_is_degraded_never_critical(
    servers: Endpoints, database_url: str
) -> None:
    """Load alone never takes an instance out of a load balancer's rotation: a 200."""
    response, after = await _health_with_held(servers, database_url, size=10, held=9)
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "degraded"
    assert report["checks"]["db_pool"]["checked_out"] == 9
    assert report["checks"]["db_pool"]["utilization_percent"] == 90.0
    assert report["checks"]["db_pool"]["health"] == "degraded"
    assert report["checks"]["db_pool"]["thresholds"] == POOL_PERCENT  # the original's, reported
    assert report["checks"]["database"]["status"] == "up"  # the tenth connection answered
    assert after.status_code == 200
    assert after.json()["checks"]["db_pool"]["health"] in {"healthy", "warning"}


async def test_an_exhausted_pool_is_busy_not_down(servers: Endpoints, database_url: str) -> None:
    """Every connection in use: the probe waits its time out behind the load, and the database,
    which answers the connections in use, is reported up and degraded, not down."""
    response, _ = await _health_with_held(servers, database_url, size=4, held=4)
    assert response.status_code == 200
    report = response.json()
    assert report["status"] == "degraded"
    assert report["checks"]["database"]["status"] == "up"
    assert report["checks"]["database"]["health"] == "degraded"
    assert report["checks"]["database"]["latency_ms"] is None
    assert report["checks"]["db_pool"]["utilization_percent"] == 100.0


@pytest.mark.parametrize(
    ("latency_ms", "expected"),
    [(5.0, "healthy"), (100.0, "warning"), (499.9, "warning"), (500.0, "degraded"),
     (30_000.0, "degraded")],
)  # fmt: skip
def test_a_slow_database_is_at_most_degraded(latency_ms: float, expected: Level) -> None:
    assert _graded(latency_ms, LATENCY_MS["warning_ms"], LATENCY_MS["critical_ms"]) == expected


async def test_an_api_adds_its_own_checks(servers: Endpoints, database_url: str) -> None:
    async def projections() -> tuple[str, dict[str, object], Level]:
        return "projections", {"catalog": {"lag_events": 120}}, "warning"

    async def broken() -> tuple[str, dict[str, object], Level]:
        raise RuntimeError("cannot read checkpoints")

    app = demo_app(
        demo_settings(),
        redis_url=servers.redis_url,
        database_url=database_url,
        health_checks=[projections, broken],
    )
    async with serving(app) as http:
        response = await http.get("/health_check")
    report = response.json()
    assert response.status_code == 200
    assert report["checks"]["projections"] == {"catalog": {"lag_events": 120}}
    assert report["checks"]["broken"] == {"status": "error", "health": "degraded"}
    assert report["status"] == "degraded"


async def test_without_backends_the_report_is_critical() -> None:
    report = await read_health(Backends())
    assert report["status"] == "critical"
    assert report["checks"]["redis"]["status"] == "down"


@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ([], "healthy"),
        (["healthy", "healthy"], "healthy"),
        (["healthy", "warning"], "warning"),
        (["warning", "degraded"], "degraded"),
        (["degraded", "critical", "warning"], "critical"),
    ],
)
def test_the_overall_status_is_the_worst_component(levels: list[Level], expected: Level) -> None:
    assert overall(levels) == expected

"""The projections' lag: how many feed positions and how many seconds each projection is behind
the feed head, in PostgreSQL (its checkpoint) and in Redis (its applied position).

It is read one way, `readmodels.status.read_status` (what `orders projections status` prints),
for three readers: `/health_check` (an extra check), `/metrics` (the lag gauges) and the admin
status (`admin.py`).

Lag never makes the API critical (reads still work, only older); it is a warning from
WARNING_SECONDS or WARNING_EVENTS behind, and degraded from DEGRADED_SECONDS. A projection
stopped by an event it cannot apply is degraded at once, whatever its lag (it will not catch up
by itself); a rebuild that stopped is a warning (the live generation still follows the feed).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis

from eventstore import EventStore
from orders.metrics import PROJECTION_FAILING, PROJECTION_LAG_EVENTS, PROJECTION_LAG_SECONDS
from orders.web import Level
from orders.web.health import overall
from readmodels.status import Failure, ProjectionStatus, Status, read_status

WARNING_SECONDS = 5.0
DEGRADED_SECONDS = 60.0
WARNING_EVENTS = 1000
THRESHOLDS = {
    "warning_seconds": WARNING_SECONDS,
    "degraded_seconds": DEGRADED_SECONDS,
    "warning_events": WARNING_EVENTS,
}


def _level(events_behind: int, seconds_behind: float) -> Level:
    if seconds_behind >= DEGRADED_SECONDS:
        return "degraded"
    if seconds_behind >= WARNING_SECONDS or events_behind >= WARNING_EVENTS:
        return "warning"
    return "healthy"


def lag_report(status: Status) -> tuple[dict[str, Any], Level]:
    """The health check's `projections` entry, and its level."""
    lag: dict[str, Any] = {}
    levels: list[Level] = []
    failing: dict[str, Any] = {}
    for p in status.projections:
        level = _level(p.lag_events, p.lag_seconds)
        if p.rebuild_failing is not None:
            level = overall([level, "warning"])
        if p.failing is not None:
            level = overall([level, "degraded"])
        levels.append(level)
        lag[p.name] = {
            "health": level,
            "generation": p.generation,
            "position": p.position,
            "redis_position": p.redis_position,
            "events_behind": p.lag_events,
            "seconds_behind": p.lag_seconds,
        }
        failing |= _failing(p)
    # open transactions holding the sequencer's horizon: committed writes wait outside the feed,
    # a lag no checkpoint shows; named (not their query text: it may hold a client's data)
    blockers = [
        {"pid": b.pid, "application_name": b.application_name, "state": b.state,
         "transaction_age_seconds": round(b.transaction_age_seconds, 1)}
        for b in status.blockers
    ]  # fmt: skip
    levels += [_level(0, b.transaction_age_seconds) for b in status.blockers]
    health = overall(levels)
    report = {
        "status": "up",
        "health": health,
        "feed_head": status.head,
        "unsequenced": status.unsequenced,
        "blockers": blockers,
        "lag": lag,
        "failing": failing,
        "thresholds": THRESHOLDS,
    }
    return report, health


def _failing(p: ProjectionStatus) -> dict[str, Any]:
    """The projection's stopped generations, by name ("products", "products (rebuild)")."""
    found: dict[str, Any] = {}
    for name, failure in ((p.name, p.failing), (f"{p.name} (rebuild)", p.rebuild_failing)):
        if failure is not None:
            found[name] = _failure(failure)
    return found


def _failure(f: Failure) -> dict[str, Any]:
    return {
        "stopped_at": f.position - 1,
        "event_position": f.position,
        "event_id": str(f.event_id),
        "event_type": f.event_type,
        "error": f.error,
        "attempts": f.attempts,
        "since": f.first_failed_at.isoformat(),
    }


async def read_lag(store: EventStore, redis: Redis | None) -> tuple[dict[str, Any], Level]:
    return lag_report(await read_status(store, redis))


async def observe_lag(store: EventStore, redis: Redis | None) -> None:
    """Set the lag gauges, before a scrape of /metrics."""
    status = await read_status(store, redis)
    for p in status.projections:
        PROJECTION_LAG_EVENTS.labels(p.name).set(p.lag_events)
        PROJECTION_LAG_SECONDS.labels(p.name).set(p.lag_seconds)
        stopped = p.failing is not None or p.rebuild_failing is not None
        PROJECTION_FAILING.labels(p.name).set(1 if stopped else 0)

"""The projections' lag, as an extra check of `/health_check`: how many feed positions and how
many seconds each projection is behind the feed head, in PostgreSQL (its checkpoint) and in
Redis (its applied position).

Lag never makes the API critical (reads still work, only older); it is a warning from
WARNING_SECONDS or WARNING_EVENTS behind, and degraded from DEGRADED_SECONDS.
"""

from __future__ import annotations

from typing import Any

from eventstore import EventStore
from orders.web import Level
from orders.web.health import overall
from projector.schema import PROJECTIONS
from query_api.readmodels import ReadModels

WARNING_SECONDS = 5.0
DEGRADED_SECONDS = 60.0
WARNING_EVENTS = 1000
THRESHOLDS = {
    "warning_seconds": WARNING_SECONDS,
    "degraded_seconds": DEGRADED_SECONDS,
    "warning_events": WARNING_EVENTS,
}

# Seconds behind: how long the oldest event the projection has not applied has been waiting.
_CHECKPOINTS = """
SELECT p.name, coalesce(c.position, 0), coalesce(c.generation, 1),
       (SELECT extract(epoch FROM clock_timestamp() - e.recorded_at)::float8
          FROM feed f JOIN events e USING (global_position)
         WHERE f.feed_position = coalesce(c.position, 0) + 1)
FROM unnest(%s::text[]) AS p(name) LEFT JOIN projection_checkpoints c USING (name)
"""


def _level(events_behind: int, seconds_behind: float) -> Level:
    if seconds_behind >= DEGRADED_SECONDS:
        return "degraded"
    if seconds_behind >= WARNING_SECONDS or events_behind >= WARNING_EVENTS:
        return "warning"
    return "healthy"


async def read_lag(store: EventStore, reads: ReadModels) -> tuple[dict[str, Any], Level]:
    status = await store.feed_status()
    names = [p.name for p in PROJECTIONS]
    async with reads.postgres.connection() as conn:
        cur = await conn.execute(_CHECKPOINTS, (names,))
        rows = await cur.fetchall()
    lag: dict[str, Any] = {}
    levels: list[Level] = []
    for name, position, generation, waiting in rows:
        events_behind = max(status.head - position, 0)
        seconds = round(waiting or 0.0, 3) if events_behind else 0.0
        level = _level(events_behind, seconds)
        levels.append(level)
        lag[name] = {
            "health": level,
            "generation": generation,
            "position": position,
            "redis_position": await reads.redis.position(name),
            "events_behind": events_behind,
            "seconds_behind": seconds,
        }
    health = overall(levels)
    report = {
        "status": "up",
        "health": health,
        "feed_head": status.head,
        "unsequenced": status.pending,
        "lag": lag,
        "thresholds": THRESHOLDS,
    }
    return report, health

"""Where the projections stand, for operators (`orders projections status`) and for Prometheus
(`metrics_text`, mounted by the APIs next to their own metrics).

Lag is measured against the feed head: in events (feed positions not yet applied) and in seconds
(how long the oldest of them has been waiting). Throughput is the counter
`orders_projector_events_total` (feed positions applied by live runners): Prometheus's `rate()`
of it is events/s. When committed events wait outside the feed because an open transaction
holds the sequencer's horizon back, the report names that transaction: it is the stall's cause.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from eventstore import EventStore, HorizonBlocker
from projector.schema import PROJECTIONS, applied_key, live_generation_key

_CHECKPOINTS = """
SELECT p.name, coalesce(c.generation, 1), coalesce(c.position, 0), coalesce(c.events_applied, 0),
       (SELECT extract(epoch FROM clock_timestamp() - e.recorded_at)::float8
          FROM feed f JOIN events e USING (global_position)
         WHERE f.feed_position = coalesce(c.position, 0) + 1),
       r.generation, r.position
FROM unnest(%s::text[]) WITH ORDINALITY AS p(name, n)
LEFT JOIN projection_checkpoints c USING (name)
LEFT JOIN projection_rebuilds r USING (name)
ORDER BY p.n
"""


@dataclass(frozen=True, slots=True)
class ProjectionStatus:
    name: str
    generation: int
    position: int
    lag_events: int
    lag_seconds: float
    events_applied: int
    redis_generation: int | None  # what Redis readers read (None: Redis unknown)
    redis_position: int | None  # applied position of that generation in Redis
    rebuilding: tuple[int, int] | None  # (generation, position) of a rebuild in progress


@dataclass(frozen=True, slots=True)
class Status:
    head: int
    unsequenced: int
    blockers: Sequence[HorizonBlocker]
    projections: list[ProjectionStatus]


async def read_status(store: EventStore, redis: Redis | None) -> Status:
    feed = await store.feed_status()
    names = [p.name for p in PROJECTIONS]
    async with store.pool.connection() as conn:
        cur = await conn.execute(_CHECKPOINTS, (names,))
        rows = await cur.fetchall()
    in_redis = await _redis_positions(redis, names)
    projections = []
    for name, generation, position, applied, waiting, rebuild_gen, rebuild_pos in rows:
        lag = max(feed.head - position, 0)
        redis_generation, redis_position = in_redis.get(name, (None, None))
        projections.append(
            ProjectionStatus(
                name=name,
                generation=generation,
                position=position,
                lag_events=lag,
                lag_seconds=round(waiting or 0.0, 3) if lag else 0.0,
                events_applied=applied,
                redis_generation=redis_generation,
                redis_position=redis_position,
                rebuilding=None if rebuild_gen is None else (rebuild_gen, rebuild_pos),
            )
        )
    return Status(feed.head, feed.pending, feed.blockers, projections)


async def _redis_positions(
    redis: Redis | None, names: list[str]
) -> dict[str, tuple[int, int | None]]:
    if redis is None:
        return {}
    try:
        lives = await redis.mget([live_generation_key(n) for n in names])
        generations = [1 if raw is None else int(raw) for raw in lives]
        keys = [applied_key(n, g) for n, g in zip(names, generations, strict=True)]
        applied = await redis.mget(keys)
    except (RedisError, OSError):
        return {}
    return {
        n: (g, None if a is None else int(a))
        for n, g, a in zip(names, generations, applied, strict=True)
    }


def render(status: Status) -> str:
    """The operator's table."""
    lines = [
        f"feed head {status.head:,}   committed, not yet in the feed: {status.unsequenced:,}",
        "",
        (
            f"{'projection':<12} {'gen':>4} {'checkpoint':>12} {'lag events':>11} {'lag s':>8}"
            f"  {'redis':<22} rebuild"
        ),
    ]
    for p in status.projections:
        redis = "unavailable"
        if p.redis_generation is not None:
            at = "not loaded" if p.redis_position is None else f"{p.redis_position:,}"
            redis = f"g{p.redis_generation} at {at}"
        rebuild = "-" if p.rebuilding is None else f"g{p.rebuilding[0]} at {p.rebuilding[1]:,}"
        lines.append(
            f"{p.name:<12} {p.generation:>4} {p.position:>12,} {p.lag_events:>11,}"
            f" {p.lag_seconds:>8.1f}  {redis:<22} {rebuild}"
        )
    if status.blockers:
        lines += ["", "stalled: the sequencer's horizon is held back by open transactions:"]
        lines += [
            f"  pid {b.pid} ({b.application_name or 'no application name'}), open"
            f" {b.transaction_age_seconds:.1f} s, {b.state}: {b.query}"
            for b in status.blockers
        ]
    elif status.unsequenced:
        lines += ["", f"{status.unsequenced:,} committed events wait for the sequencer"]
    return "\n".join(lines)


# name, type, help, the ProjectionStatus field it reports
_FAMILIES = (
    ("lag_events", "gauge", "Feed positions a projection has not applied.", "lag_events"),
    ("lag_seconds", "gauge", "Age of the oldest event not applied yet.", "lag_seconds"),
    (
        "events_total", "counter",
        "Feed positions applied by live runners; rate() of it is the throughput.", "events_applied",
    ),
    ("checkpoint", "gauge", "Feed position of a projection's checkpoint.", "position"),
    ("generation", "gauge", "Live generation of a projection's read models.", "generation"),
)  # fmt: skip


def metrics_text(status: Status) -> str:
    """Prometheus text exposition (format 0.0.4) of the projections and the feed."""
    out: list[str] = []

    def family(name: str, kind: str, help_: str, samples: list[tuple[str, float]]) -> None:
        out.extend([f"# HELP {name} {help_}", f"# TYPE {name} {kind}"])
        out.extend(f"{name}{labels} {value:g}" for labels, value in samples)

    def labelled(p: ProjectionStatus) -> str:
        return f'{{projection="{p.name}"}}'

    for suffix, kind, help_, field in _FAMILIES:
        samples = [(labelled(p), float(getattr(p, field))) for p in status.projections]
        family(f"orders_projector_{suffix}", kind, help_, samples)
    behind = [
        (labelled(p), float(max(status.head - p.redis_position, 0)))
        for p in status.projections
        if p.redis_position is not None
    ]
    family(
        "orders_projector_redis_lag_events", "gauge",
        "Feed positions the Redis documents of a projection are behind the head.", behind,
    )  # fmt: skip
    family("orders_feed_head", "gauge", "Last feed position.", [("", status.head)])
    family(
        "orders_feed_unsequenced", "gauge", "Committed events not yet in the feed.",
        [("", status.unsequenced)],
    )  # fmt: skip
    family(
        "orders_feed_horizon_blockers", "gauge",
        "Open transactions holding the sequencer's horizon back.", [("", len(status.blockers))],
    )  # fmt: skip
    return "\n".join(out) + "\n"


async def metrics(store: EventStore, redis: Redis | None) -> str:
    """What an API mounts at /metrics (or appends to its own metrics there)."""
    return metrics_text(await read_status(store, redis))

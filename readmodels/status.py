"""Where the projections stand, read one way for every reader: operators (`orders projections
status`, `GET /admin/projections`), the query API's health check and its `/metrics` lag gauges.

Lag is measured against the feed head: in events (feed positions not yet applied) and in seconds
(how long the oldest of them has been waiting). When committed events wait outside the feed
because an open transaction holds the sequencer's horizon back, the report names that
transaction: it is the stall's cause. A projection stopped by an event it cannot apply is named
with that event (`projection_failures`, recorded by the projector next to its checkpoint).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from redis.asyncio import Redis, RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from eventstore import EventStore, HorizonBlocker
from readmodels.keys import mget
from readmodels.schema import PROJECTIONS, applied_key, live_generation_key

_CHECKPOINTS = """
SELECT p.name, coalesce(c.generation, 1), coalesce(c.position, 0), coalesce(c.events_applied, 0),
       r.generation, r.position, clock_timestamp()
FROM unnest(%s::text[]) WITH ORDINALITY AS p(name, n)
LEFT JOIN projection_checkpoints c USING (name)
LEFT JOIN projection_rebuilds r USING (name)
ORDER BY p.n
"""


# Only the failures of the generations that stand (a rebuild that was abandoned or replaced
# leaves its row behind until the trigger of its next move deletes it).
_FAILURES = """
SELECT f.name, f.slot, f.generation, f.position, f.event_id, f.event_type, f.error, f.attempts,
       f.first_failed_at, f.failed_at, f.retry_at
FROM projection_failures f
LEFT JOIN projection_checkpoints c ON c.name = f.name
LEFT JOIN projection_rebuilds r ON r.name = f.name
WHERE f.name = ANY(%s)
  AND ((f.slot = 'live' AND f.generation = coalesce(c.generation, 1))
       OR (f.slot = 'rebuild' AND f.generation = r.generation))
"""


# An event a projection cannot apply: it stopped just before it. (No docstring: the admin API
# serves this class, and a docstring would become its description in the OpenAPI.)
@dataclass(frozen=True, slots=True)
class Failure:
    slot: str  # "live" or "rebuild"
    generation: int
    position: int  # the event's feed position: the projection stands at position - 1
    event_id: UUID
    event_type: str
    error: str  # the error's last line, redacted
    attempts: int
    first_failed_at: dt.datetime
    failed_at: dt.datetime
    retry_at: dt.datetime


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
    failing: Failure | None = None  # the live generation is stopped by this event
    rebuild_failing: Failure | None = None  # the rebuild in progress is


@dataclass(frozen=True, slots=True)
class Status:
    head: int
    unsequenced: int
    blockers: Sequence[HorizonBlocker]
    projections: list[ProjectionStatus]


async def read_status(store: EventStore, redis: Redis | RedisCluster | None) -> Status:
    feed = await store.feed_status()
    names = [p.name for p in PROJECTIONS]
    async with store.connection() as conn:
        cur = await conn.execute(_CHECKPOINTS, (names,))
        rows = await cur.fetchall()
        cur = await conn.execute(_FAILURES, (names,))
        failures = {(row[0], row[1]): Failure(*row[1:]) for row in await cur.fetchall()}
    # the oldest event each projection has not applied: the one just past its checkpoint
    recorded = await store.recorded_at(sorted({row[2] + 1 for row in rows}))
    in_redis = await _redis_positions(redis, names)
    projections = []
    for name, generation, position, applied, rebuild_gen, rebuild_pos, now in rows:
        lag = max(feed.head - position, 0)
        oldest = recorded.get(position + 1)
        waiting = None if oldest is None else (now - oldest).total_seconds()
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
                failing=failures.get((name, "live")),
                rebuild_failing=failures.get((name, "rebuild")),
            )
        )
    return Status(feed.head, feed.pending, feed.blockers, projections)


async def _redis_positions(
    redis: Redis | RedisCluster | None, names: list[str]
) -> dict[str, tuple[int, int | None]]:
    if redis is None:
        return {}
    try:
        lives = await mget(redis, [live_generation_key(n) for n in names])
        generations = [1 if raw is None else int(raw) for raw in lives]
        keys = [applied_key(n, g) for n, g in zip(names, generations, strict=True)]
        applied = await mget(redis, keys)
    except (
        RedisError,
        RedisClusterException,
        OSError,
    ):  # a cluster that reaches no node: the latter
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
    lines += _failures(status.projections)
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


def _failures(projections: Sequence[ProjectionStatus]) -> list[str]:
    lines = []
    for p in projections:
        for what, failure in (("", p.failing), (" (rebuild)", p.rebuild_failing)):
            if failure is None:
                continue
            head = (
                f"failing: {p.name}{what} stopped at feed position {failure.position - 1:,};"
                f" the event at {failure.position:,} ({failure.event_type}, id"
                f" {failure.event_id}) raises {failure.error}"
            )
            tries = f"  {failure.attempts} tries since {failure.first_failed_at:%Y-%m-%d %H:%M:%S}"
            if failure.slot == "live":
                tries += f"; next at {failure.retry_at:%H:%M:%S}"
            lines += [head, tries]
    return ["", *lines] if lines else []


# A rebuild under way: the next generation's position, moved with its rows. (No docstring: the
# admin API serves this class, and a docstring would become its description in the OpenAPI.)
# `events_loaded`: events its loader process has folded while the position waits at 0 (the
# bulk load moves it to the head it loaded as of, at its end); the rate is of those until then.
@dataclass(frozen=True, slots=True)
class Progress:
    projection: str
    generation: int
    position: int
    head: int
    events_per_second: float | None
    eta_seconds: float | None
    events_loaded: int = 0


_REBUILDS = """
SELECT name, generation, position, extract(epoch FROM clock_timestamp() - started_at)::float8,
       events_loaded
FROM projection_rebuilds WHERE name = ANY(%s) ORDER BY name
"""


async def read_rebuilds(store: EventStore, projections: Sequence[str]) -> list[Progress]:
    """Where the rebuilds of these projections stand against the feed head. The rate is from
    the start of the rebuild (of a resumed one: of the first attempt, so it reads low)."""
    head = (await store.feed_head()).position
    async with store.connection() as conn:
        cur = await conn.execute(_REBUILDS, (list(projections),))
        rows = await cur.fetchall()
    return [_progress(head, *row) for row in rows]


def _progress(  # noqa: PLR0917 - one row of _REBUILDS, in its order, after the head
    head: int, name: str, generation: int, position: int, seconds: float, loaded: int
) -> Progress:
    if position == 0 and loaded > 0:  # loading: no feed position to measure against yet
        rate = round(loaded / seconds, 1) if seconds > 0 else None
        return Progress(name, generation, position, head, rate, None, loaded)
    rate = position / seconds if seconds > 0 and position > 0 else None
    eta = None if rate is None else round(max(head - position, 0) / rate, 1)
    return Progress(
        name, generation, position, head, None if rate is None else round(rate, 1), eta, loaded
    )

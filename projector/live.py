"""Catching the live generation of projections up with the feed: what every wake-up and sweep
does. Each projection is taken only if its lock is free (another runner has it otherwise), is
refused if the feed is behind its checkpoint (the restore guard), and has its Redis documents
reloaded from its PostgreSQL rows when Redis has lost them (flushed, or too far behind to be
worth a replay) and no rebuild holds a lease on loading them (`warming`); then one runner moves
them all, and Redis readers are pointed at the generation once its documents there have caught
up.

A projection stopped by an event it cannot apply (`runner`) is left out of the catch-ups until
its backoff has passed (`failures.backoff_seconds`), then tried again from where it stopped."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from eventstore import StoreUnavailableError
from orders.redis_client import REDIS_FAILURES
from projector import checkpoints, locks, warming
from projector.checkpoints import Checkpoint
from projector.engine import Engine
from projector.errors import (
    CheckpointMovedError,
    FeedBehindCheckpointError,
    ProjectionsRefusedError,
)
from projector.redis_sink import RedisSink, Standing
from projector.runner import Runner, Target
from readmodels.schema import PROJECTIONS, Projection

log = logging.getLogger("projector.live")

RELOAD_GAP = 200_000  # Redis further behind than this is reloaded from PostgreSQL, not replayed
BUSY_PAUSE_SECONDS = 0.05
BUSY_WAIT_SECONDS = 2.0  # how long a projection held by another runner is tried again
RETRY_PAUSES = (0.2, 0.5, 1.0)  # after a transient failure, before each new try
TRANSIENT = (StoreUnavailableError, CheckpointMovedError)


@dataclass
class CatchUp:
    """What one catch-up did: positions covered, projections another runner held, refusals,
    how many positions the furthest-behind projection it moved was left behind the head, and
    the feed position every projection it moved has reached (None: it moved none)."""

    covered: int = 0
    lag: int = 0
    reached: int | None = None
    busy: list[str] = field(default_factory=list)
    stalled: list[str] = field(default_factory=list)  # stopped by an event that raises
    refused: list[FeedBehindCheckpointError] = field(default_factory=list)


async def catch_up(engine: Engine, projections: Sequence[Projection] = PROJECTIONS) -> CatchUp:
    """One catch-up of the free projections among `projections`. What it costs beside the
    batches does not grow with their number: one statement takes their locks, one reads their
    checkpoints, one the feed's hashes there, one Redis call where their documents stand; the
    batches' checkpoints move in one statement and their Redis positions in one call."""
    done = CatchUp()
    async with locks.locking(engine.store) as conn:
        wanted = {locks.key("live", p.name): p for p in projections}
        held = await locks.try_lock(conn, list(wanted))
        done.busy = [p.name for k, p in wanted.items() if k not in held]
        targets, unpromoted = await _targets(conn, engine, [wanted[k] for k in held], done)
        runner = Runner(
            engine.store, engine.sink, batch_size=engine.live_batch, stopping=engine.stopping
        )
        done.covered = await runner.run(conn, targets)
        moving = [t for t in targets if t.poison is None]
        done.lag = max([0, *(runner.head - t.position for t in moving)])
        done.reached = min((t.position for t in moving), default=None)
        _back_off(engine, targets, done)
        await _promote(engine.sink, [t for t in targets if t.projection.name in unpromoted])
    return done


def _waiting(engine: Engine, checkpoint: Checkpoint) -> bool:
    """Whether a projection stopped by an event waits for its next try (it has not moved since:
    another runner may have got past it)."""
    stalled = engine.stalled.get(checkpoint.projection)
    if stalled is None:
        return False
    generation, position, retry_at = stalled
    if (generation, position) != (checkpoint.generation, checkpoint.position):
        del engine.stalled[checkpoint.projection]
        return False
    return time.monotonic() < retry_at


def _back_off(engine: Engine, targets: Sequence[Target], done: CatchUp) -> None:
    for t in targets:
        if t.recorded is None:
            engine.stalled.pop(t.projection.name, None)
            continue
        retry_at = time.monotonic() + t.recorded.retry_seconds
        engine.stalled[t.projection.name] = (t.generation, t.position, retry_at)
        done.stalled.append(t.projection.name)


async def _targets(
    conn: psycopg.AsyncConnection[Any],
    engine: Engine,
    projections: Sequence[Projection],
    done: CatchUp,
) -> tuple[list[Target], set[str]]:
    """The targets of the projections whose locks this runner holds, but those the restore
    guard refuses; and the names of those whose generation Redis readers are not pointed at."""
    if not projections:
        return [], set()
    read = await checkpoints.read_lives(conn, [p.name for p in projections])
    pairs = list(zip(projections, read, strict=True))
    waiting = {p.name for p, c in pairs if _waiting(engine, c)}  # stopped by an event, backing off
    done.stalled += sorted(waiting)
    checked = [c for p, c in pairs if p.name not in waiting]
    done.refused = await checkpoints.check_feeds(engine.store, checked)
    refused = waiting | {e.projection for e in done.refused}
    kept = [(p, c) for p, c in pairs if p.name not in refused]
    standing = await _standing(engine.sink, kept)
    targets, unpromoted = [], set()
    for (projection, checkpoint), stands in zip(kept, standing, strict=True):
        redis_position = None
        # a generation a rebuild is loading into Redis (`warming`) is left to it: PostgreSQL only
        if engine.sink is not None and stands is not None and not stands.warming:
            redis_position = await _ready(conn, engine.sink, projection, checkpoint, stands.applied)
        if stands is None or stands.live != checkpoint.generation:
            unpromoted.add(projection.name)
        cache = engine.cache(projection, checkpoint.generation)
        # the end of the last batch sent to Redis, perhaps not whole: a replay stops there
        writing = None if stands is None or redis_position is None else stands.writing
        targets.append(Target(projection, checkpoint, cache, redis_position, writing))
    return targets, unpromoted


async def _standing(
    sink: RedisSink | None, kept: Sequence[tuple[Projection, Checkpoint]]
) -> list[Standing | None]:
    """Where each generation stands in Redis (None for all: Redis is down, or not written)."""
    if sink is None or not kept:
        return [None] * len(kept)
    try:
        return list(await sink.standing([(p, c.generation) for p, c in kept]))
    except REDIS_FAILURES as e:
        _redis_down(", ".join(p.name for p, _ in kept), e)
        return [None] * len(kept)


async def _ready(
    conn: psycopg.AsyncConnection[Any],
    sink: RedisSink,
    projection: Projection,
    checkpoint: Checkpoint,
    applied: int | None,
) -> int | None:
    """Where the generation's Redis documents stand (given its applied position there), after
    reloading them from PostgreSQL if they are lost, ahead of PostgreSQL (from another feed) or
    far behind. None: Redis is down."""
    if applied is not None and checkpoint.position - RELOAD_GAP <= applied <= checkpoint.position:
        return applied
    try:
        await reload(conn, sink, projection, checkpoint)
    except REDIS_FAILURES as e:
        _redis_down(projection.name, e)
        return None
    return checkpoint.position


def _redis_down(projections: str, e: Exception) -> None:
    log.warning("Redis unavailable for %s (%s); PostgreSQL goes on", projections, e)


async def reload(
    conn: psycopg.AsyncConnection[Any],
    sink: RedisSink,
    projection: Projection,
    checkpoint: Checkpoint,
) -> None:
    """Replace a generation's Redis documents with its PostgreSQL rows (the caller holds the
    projection's lock, so they stand still at the checkpoint). Readers ignore the generation in
    Redis from the first step (its applied position goes first) to the last (it comes back)."""
    generation = checkpoint.generation
    await sink.clear(projection, generation)
    async with conn.transaction():
        loaded = await warming.copy_generation(conn, sink, projection, generation)
    await sink.mark_applied(projection, generation, checkpoint.position)
    if loaded:
        log.info("%d Redis documents of %s g%d reloaded", loaded, projection.name, generation)


async def _promote(sink: RedisSink | None, targets: Sequence[Target]) -> None:
    """Point Redis readers at each live generation whose Redis documents have caught up, and
    drop the generation they read before (a rebuild that switched while Redis was down). Only
    targets readers were not pointed at are given: most catch-ups promote none."""
    if sink is None:
        return
    for t in targets:
        if t.redis_position is None or t.redis_position < t.checkpoint.position:
            continue
        try:
            before = await sink.promote(t.projection, t.generation)
            if before and before != t.generation:
                await sink.drop([(t.projection, before)])
        except REDIS_FAILURES as e:
            log.warning("Redis live generation of %s not set (%s)", t.projection.name, e)


async def follow(
    engine: Engine, *, budget_seconds: float = 60.0, look_again: bool = True
) -> CatchUp:
    """Sequence the feed and catch every projection up, again and again while either finds
    something new (or until the budget is spent: the next wake-up or sweep goes on; or until
    the engine is stopping: then after the batch being written).

    A projection another runner holds is tried again for a moment: that runner may have read
    the head just before the events this call was woken for, and be about to stop. A database
    that fails for a moment is tried again a few times (a batch is applied once or not at all,
    so a retry only redoes what did not commit). Refusals are raised at the end, together.

    Once every projection is caught up, the round that looks for more costs the sequencer and
    a look at the feed's head, not another catch-up: the head not past where they all stand
    ends it. A caller that is woken by every write (the follower) skips that round
    (`look_again=False`): a write committed meanwhile wakes it again, and one that did not
    would cost the round for nothing."""
    total = CatchUp()
    reached: int | None = None  # where every projection stood after the last round
    refused: dict[str, FeedBehindCheckpointError] = {}
    deadline = time.monotonic() + budget_seconds
    busy_until = time.monotonic() + BUSY_WAIT_SECONDS
    projections: Sequence[Projection] = PROJECTIONS
    failures = 0
    while time.monotonic() < deadline and not engine.stopping.is_set():
        try:
            sequenced = await engine.store.sequence()
            if not sequenced and reached is not None and await _head(engine) <= reached:
                break
            done = await catch_up(engine, projections)
        except TRANSIENT as e:
            failures += 1
            if failures > len(RETRY_PAUSES):
                raise
            log.warning("catch-up failed (%s: %s); trying again", type(e).__name__, e)
            await asyncio.sleep(RETRY_PAUSES[failures - 1])
            continue
        total.covered += done.covered
        total.lag = done.lag
        refused |= {e.projection: e for e in done.refused}
        reached = None
        if done.busy and time.monotonic() < busy_until:
            projections = [p for p in PROJECTIONS if p.name in done.busy]
            await asyncio.sleep(BUSY_PAUSE_SECONDS)
            continue
        if not look_again or (not sequenced and not done.covered):
            break
        if not done.busy and projections is PROJECTIONS:
            reached = done.reached
        projections = PROJECTIONS
    if refused:
        raise ProjectionsRefusedError(list(refused.values()))
    return total


async def _head(engine: Engine) -> int:
    return (await engine.store.feed_head()).position

"""Rebuilding projections without downtime.

    1. Take each projection's rebuild lock; the next generation (live + 1) starts from the
       beginning of the feed (or resumes where a killed rebuild of it stopped: its rows and
       progress row moved together).
    2. Load each generation that starts from the beginning as of the feed head, in loader
       processes (`projector.loaders`, `projector.bulk`): every stream folded once, in stream
       order, its documents copied into the generation's own table, the table attached and the
       progress row moved to that head together.
    3. Replay the feed from there (what was written meanwhile), in large batches, with a
       progress bar, up to the head. Writes go on; the live generation keeps serving and
       following the feed meanwhile.
    4. Per projection, take its live lock (the live runner finishes its batch and waits), apply
       the last few events, and switch: the checkpoint row takes the new generation and
       position in one transaction (PostgreSQL readers), then `rm:live` (Redis readers, who
       read PostgreSQL until Redis holds the generation) and the old Redis generation goes
       (`projector.warming`). A reader that still has the old generation cached reads its
       applied position and document in one atomic call (`query_api.redis_source`): it finds
       no applied position, reads PostgreSQL this once and forgets the cached generation, so
       nothing waits for the cache to expire.
    5. Drop the old generation's tables (`DROP TABLE`, whatever their size).
    6. Load the new generation into Redis from its tables (`projector.warming`); the live
       runner replays into it what was written meanwhile.

Readers see the old generation, complete, until the switch, and the new one, complete, after
(from PostgreSQL until step 6 is done, from Redis then).

A projection that cannot apply an event stops just before it (`runner`) and is not switched;
the others are, and the rebuild then fails naming it. Run again once the projection is fixed,
it resumes from that event (its progress row stayed there).
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from orders.redis_client import REDIS_FAILURES
from projector import checkpoints, loaders, locks, pg_sink, warming
from projector.checkpoints import Checkpoint
from projector.engine import LIVE_CACHE, Engine
from projector.errors import RebuildError
from projector.progress import LoadProgress, RebuildProgress
from projector.runner import Runner, Target
from projector.states import StreamCache
from readmodels.schema import PROJECTIONS, Projection

log = logging.getLogger("projector.rebuild")

SWITCH_WAIT_SECONDS = 120.0  # for the live runner to finish its batch


def chosen(names: Sequence[str]) -> list[Projection]:
    """The projections named (all of them when none are); an unknown name is a RebuildError."""
    by_name = {p.name: p for p in PROJECTIONS}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise RebuildError(
            f"no projection named {', '.join(unknown)}; there are {', '.join(by_name)}"
        )
    return [by_name[n] for n in names] if names else list(PROJECTIONS)


@dataclass(frozen=True, slots=True)
class Rebuilt:
    projection: Projection
    generation: int
    position: int
    replaced: int  # the generation it replaced
    redis_switched: bool  # Redis readers are pointed at it (reading PostgreSQL until it warms)
    seconds: float  # from the start of the rebuild to this projection's switch
    loader_rss: int | None = None  # peak RSS of its loader process (bytes), when it had one
    dropped_seconds: float = 0.0  # from the start to every old generation dropped
    redis_warmed: bool = False  # its Redis documents are loaded (the live runner goes on)
    warmed_seconds: float = 0.0  # from the start to the end of the Redis loads


async def rebuild(
    engine: Engine, projections: Sequence[Projection], *, progress: bool = True
) -> list[Rebuilt]:
    async with locks.locking(engine.store) as conn:
        keys = [locks.key("rebuild", p.name) for p in projections]
        held = await locks.try_lock(conn, keys)
        if len(held) != len(keys):
            busy = [p.name for p, k in zip(projections, keys, strict=True) if k not in held]
            raise RebuildError(f"a rebuild of {', '.join(busy)} is already running")
        timer = _Timer()
        prepared = [await _prepare(conn, engine, p) for p in projections]
        reports = await _load(engine, projections, prepared, progress=progress)
        timer.lap("loaded")
        targets = [await _target(conn, p) for p in projections]
        await _replay(conn, engine, targets, progress=progress)
        timer.lap("replayed")
        stopped = [t for t in targets if t.poison is not None]
        switched = [await _switch(conn, engine, t, timer.began) for t in targets if not t.poison]
        timer.lap("caught up and switched")
        await _drop(conn, [r for r, _ in switched])
        dropped = timer.lap("old generations dropped")
        warmed = await warming.warm(engine, [w for _, w in switched if w is not None])
        loaded = timer.lap("Redis loaded")
        rebuilt = [
            replace(r, loader_rss=reports[r.projection.name].peak_rss if r.projection.name in
                    reports else None, dropped_seconds=dropped,
                    redis_warmed=r.projection.name in warmed, warmed_seconds=loaded)
            for r, _ in switched
        ]  # fmt: skip
        if stopped:
            raise RebuildError("; ".join(_stopped(t) for t in stopped))
        return rebuilt


def _stopped(target: Target) -> str:
    assert target.poison is not None, "only stopped targets"
    found = target.poison
    return (
        f"the rebuild of {target.projection.name} stopped at feed position {target.position:,}:"
        f" the event at {found.position:,} ({found.event_type}, id {found.event_id}) raises"
        f" {found.line}. It is not switched; run the rebuild again once the projection is fixed"
        " (it resumes from there)"
    )


class _Timer:
    def __init__(self) -> None:
        self.began = self.last = time.perf_counter()

    def lap(self, what: str) -> float:
        """Log the time since the last lap; returns the time since the start."""
        now = time.perf_counter()
        log.info("%s in %.2f s", what, now - self.last)
        self.last = now
        return now - self.began


async def _prepare(
    conn: psycopg.AsyncConnection[Any], engine: Engine, projection: Projection
) -> Checkpoint:
    live = await checkpoints.read_live(conn, projection.name)
    generation = live.generation + 1
    progress = await checkpoints.read_rebuild(conn, projection.name)
    if progress is None or progress.generation != generation:
        # what an abandoned rebuild left behind, into this generation or another one
        abandoned = {generation} | ({progress.generation} if progress else set())
        async with conn.transaction():
            for table in projection.tables:
                for number in abandoned - {live.generation}:
                    await pg_sink.drop_generation(conn, table, number)
            progress = await checkpoints.begin_rebuild(conn, projection.name, generation)
        if engine.sink is not None:
            await _forget(engine, [(projection, n) for n in abandoned - {live.generation}])
    log.info(
        "rebuilding %s into generation %d from feed position %d",
        projection.name, generation, progress.position,
    )  # fmt: skip
    return progress


async def _load(
    engine: Engine,
    projections: Sequence[Projection],
    prepared: Sequence[Checkpoint],
    *,
    progress: bool,
) -> dict[str, loaders.Report]:
    """Load the generations that start from the beginning, as of the feed head; those resumed
    past it were loaded by a rebuild before (their runner goes on from where it stopped)."""
    loads = [
        (p, c.generation) for p, c in zip(projections, prepared, strict=True) if not c.position
    ]
    upto = (await engine.store.feed_head()).position
    bar = LoadProgress([p.name for p, _ in loads], upto) if progress and loads else None
    with _collector_paused():
        reports = await loaders.load_all(
            engine, loads, upto, on_progress=None if bar is None else bar.update
        )
    if bar is not None:
        bar.finish()
    for r in reports:
        rss = "" if r.peak_rss is None else f", peak RSS {r.peak_rss / 2**20:,.0f} MiB"
        log.info(
            "%s g%d loaded as of %d: %d events, %d rows%s",
            r.loaded.projection, r.loaded.generation, upto, r.loaded.events, r.loaded.rows, rss,
        )  # fmt: skip
    return {r.loaded.projection: r for r in reports}


async def _target(conn: psycopg.AsyncConnection[Any], projection: Projection) -> Target:
    progress = await checkpoints.read_rebuild(conn, projection.name)
    if progress is None:
        raise RebuildError(f"the rebuild of {projection.name} lost its progress row")
    # the replay brings what was written during the load: the streams it touches, read back
    # once each, kept like the live runner's (bounded), not every stream of the projection.
    # PostgreSQL only: Redis is loaded after the switch (`projector.warming`)
    return Target(projection, progress, StreamCache(LIVE_CACHE))


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while replaying: the folded streams are millions of objects
    the collector would walk again and again (a third of the replay's time) for garbage that is
    freed by reference counting anyway. Collected once at the end."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect()


async def _forget(engine: Engine, generations: list[tuple[Projection, int]]) -> None:
    assert engine.sink is not None
    try:
        await engine.sink.drop(generations)
    except REDIS_FAILURES as e:  # the new generation is dropped again at its switch
        log.warning("Redis keys of abandoned generations left behind (%s)", e)


async def _replay(
    conn: psycopg.AsyncConnection[Any], engine: Engine, targets: list[Target], *, progress: bool
) -> None:
    runner = Runner(engine.store, None, batch_size=engine.rebuild_batch)
    start = min(t.checkpoint.position for t in targets)
    names = ",".join(t.projection.name for t in targets)
    bar = RebuildProgress(f"rebuild {names}", start) if progress else None
    with _collector_paused():
        await runner.run(conn, targets, on_step=None if bar is None else bar.update)
    if bar is not None:
        bar.finish()


async def _switch(
    conn: psycopg.AsyncConnection[Any], engine: Engine, target: Target, began: float
) -> tuple[Rebuilt, warming.Warming | None]:
    """Steps 4: the projection switched, and its Redis generation to load (None: Redis failed,
    or there is none; the live runner then loads it)."""
    projection = target.projection
    live_key = locks.key("live", projection.name)
    if not await locks.wait_lock(conn, live_key, SWITCH_WAIT_SECONDS):
        raise RebuildError(f"the live runner of {projection.name} kept its lock; try again")
    try:
        await Runner(engine.store, None, batch_size=engine.live_batch).run(conn, [target])
        if target.poison is not None:  # an event written during the replay
            raise RebuildError(_stopped(target))
        live = await checkpoints.read_live(conn, projection.name)
        switched = await checkpoints.switch(conn, live, target.checkpoint)
        warmed = None
        if engine.sink is not None:
            warmed = await warming.point_readers(
                engine.sink, projection, switched.generation, live.generation
            )
    finally:
        await locks.unlock(conn, [live_key])
    log.info("%s now serves generation %d", projection.name, switched.generation)
    rebuilt = Rebuilt(
        projection,
        switched.generation,
        switched.position,
        live.generation,
        warmed is not None,
        time.perf_counter() - began,
    )
    return rebuilt, warmed


async def _drop(conn: psycopg.AsyncConnection[Any], rebuilt: Sequence[Rebuilt]) -> None:
    """Step 5: the old generations' tables go (PostgreSQL readers take the generation and the
    rows in one statement); their Redis keys went at the switch."""
    for r in rebuilt:
        async with conn.transaction():
            for table in r.projection.tables:
                await pg_sink.drop_generation(conn, table, r.replaced)

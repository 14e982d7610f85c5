"""The one projection runner: reads the feed in batches, brings each projection's streams
forward, and writes the changed documents to PostgreSQL (rows and checkpoint in one
transaction: the exactly-once effect) and then to Redis (documents that never move back, then
the applied position).

A runner moves several targets at once, each a projection's generation with two positions: its
PostgreSQL checkpoint and its Redis applied position (None when Redis is not written: down, or
not wanted). A batch starts at the lowest of them and stops at the next one, so every position
a batch touches is exactly at its start; a sink that is behind (Redis after an outage) is
replayed on its own until it has caught up, then both move together.

The work overlaps: while one batch is written (on the runner's own connection, which also holds
the locks), the next is read ahead and folded (on other pooled connections). Writes stay in
order; a write that fails stops the run, and what was folded past it is dropped with the cache
(the next run starts from the checkpoint, where the cache no longer stands).

An event that cannot be applied to a projection (reading, decoding, folding or rendering it
raises: a bad upcaster, a bug in a document function) stops that projection only: the batch is
dropped, the event is found (`poison.locate`), recorded (`failures.record`: the traceback is
logged the first time, one line on later tries), and the target goes on up to the event before
it and no further in this run; the others go on. Nothing is skipped: the next run tries the
projection again from there (the live runner after a backoff, `live.py`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from eventstore import EventStore
from orders.redis_client import REDIS_FAILURES
from projector import checkpoints, failures, pg_sink, poison
from projector.changes import Change, Row, encode, merge
from projector.checkpoints import Checkpoint
from projector.feed import FeedBatch, FeedEvent, read_batch
from projector.redis_sink import RedisSink
from projector.states import StreamCache, advance
from readmodels.schema import TABLES, Projection, Table

log = logging.getLogger("projector.runner")

Rows = dict[Table, list[Row]]
Key = tuple[int, int, tuple[str, ...]]  # (after, up to, stream types) of a batch


@dataclass(eq=False)
class Target:
    projection: Projection
    checkpoint: Checkpoint  # as committed
    cache: StreamCache
    redis_position: int | None = None  # None: Redis is not written
    # Redis may hold documents of the batch that ends here past `redis_position` (sent, not
    # marked applied): a replay stops here, to write the same changes again
    redis_writing: int | None = None
    position: int = field(init=False)  # PostgreSQL position once the writes under way are done
    # set when an event raised: the target stops at the event before it, in this run
    poison: failures.Poison | None = None
    recorded: failures.Recorded | None = None

    def __post_init__(self) -> None:
        self.position = self.checkpoint.position

    @property
    def generation(self) -> int:
        return self.checkpoint.generation

    @property
    def stop(self) -> int | None:
        """The position this target goes no further than (None: the feed head)."""
        return None if self.poison is None else self.poison.position - 1

    def moving(self) -> list[int]:
        """Its positions (PostgreSQL, Redis) that are still to move."""
        held = (
            [self.position] if self.redis_position is None else [self.position, self.redis_position]
        )
        stop = self.stop
        return held if stop is None else [p for p in held if p < stop]


@dataclass(frozen=True, slots=True)
class Step:
    start: int
    end: int
    head: int
    events: int  # events of the targets' stream types in the batch
    rows: int  # rows written (each sink counts once)


class Runner:
    def __init__(
        self,
        store: EventStore,
        sink: RedisSink | None,
        *,
        batch_size: int,
        stopping: threading.Event | None = None,
    ) -> None:
        self.store = store
        self.sink = sink
        self.batch_size = batch_size
        self.stopping = stopping or threading.Event()
        self.head = 0  # the feed head the last step read
        self._ahead: tuple[Key, asyncio.Task[FeedBatch]] | None = None
        self._writing: asyncio.Task[None] | None = None
        self._publishing: asyncio.Task[None] | None = None  # Redis, a committed batch behind

    async def run(
        self,
        conn: psycopg.AsyncConnection[Any],
        targets: Sequence[Target],
        *,
        on_step: Callable[[Step], None] | None = None,
    ) -> int:
        """Bring the targets up to the feed head (or, once `stopping` is set, to the end of the
        batch being written); return feed positions covered. `conn` writes (and holds the
        targets' locks); reads use other pooled connections."""
        covered = 0
        try:
            while not self.stopping.is_set():
                step = await self._step(conn, targets)
                if step is None:
                    break
                covered += step.end - step.start
                if on_step is not None:
                    on_step(step)
            await self._written()
        finally:
            self._forget_ahead()
            for task in (self._writing, self._publishing):  # the run failed: let them end
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
            self._writing = self._publishing = None
        return covered

    async def _step(
        self, conn: psycopg.AsyncConnection[Any], targets: Sequence[Target]
    ) -> Step | None:
        head = self.head = (await self.store.feed_head()).position
        positions = [p for t in targets for p in t.moving()]
        start = min(positions, default=head)
        if start >= head:
            return None
        stops = [stop for t in targets if (stop := t.stop) is not None and stop > start]
        stops += [w for t in targets if (w := t.redis_writing) is not None and w > start]
        upto = min([p for p in positions if p > start] + stops + [head])
        due = [t for t in targets if start in t.moving()]
        types = tuple(sorted({t.projection.stream_type for t in due}))
        try:
            batch = await self._read((start, upto, types))
        except Exception as e:  # an event that cannot be read (upcast, unsealed, decoded)
            if not failures.is_the_events(e):
                raise
            await self._stop(conn, [(t, e) for t in due], start, upto)
            return Step(start, start, head, 0, 0)
        rows, failed = await self._fold(due, batch, start)
        await self._committed()
        if failed:  # the others' rows go on being written; these stay where they were
            await self._stop(conn, failed, start, batch.end)
            due = [t for t in due if t in rows]
        to_save = [t for t in due if t.position == start]
        to_publish = [t for t in due if t.redis_position == start]
        for t in to_save:
            t.position = batch.end
        for t in to_publish:
            t.redis_position = batch.end
        self._writing = asyncio.create_task(self._write(conn, to_save, to_publish, rows, batch))
        written = sum(len(r) for by_table in rows.values() for r in by_table.values())
        return Step(start, batch.end, head, len(batch.events), written)

    async def _fold(
        self, due: list[Target], batch: FeedBatch, start: int
    ) -> tuple[dict[Target, Rows], list[tuple[Target, Exception]]]:
        """Each target's rows for the batch, and the targets whose fold raised (with what)."""
        by_type: dict[str, list[FeedEvent]] = {t.projection.stream_type: [] for t in due}
        for e in batch.events:
            by_type[e.stream_type].append(e)
        rows: dict[Target, Rows] = {}
        failed: list[tuple[Target, Exception]] = []
        for t in due:
            events = by_type[t.projection.stream_type]
            try:
                changes = await advance(
                    self.store, t.projection, t.cache, events, start=start, end=batch.end
                )
                rows[t] = _by_table(t.projection, merge(changes))
            except Exception as e:
                t.cache.forget()  # some of its streams were folded past the batch's start
                if not failures.is_the_events(e):
                    raise
                failed.append((t, e))
        return rows, failed

    async def _stop(
        self,
        conn: psycopg.AsyncConnection[Any],
        suspects: list[tuple[Target, Exception]],
        start: int,
        upto: int,
    ) -> None:
        """Positions start+1..upto raised for these targets: find, record and log the event
        that makes each fail; raise what was raised if none is found (it was not an event's,
        or did not happen again), so that a failure never goes unseen."""
        self._forget_ahead()
        await self._written()  # the connection is free, and what was written before stands
        for t, _ in suspects:
            t.poison = await poison.locate(self.store, t.projection, start, upto, self.batch_size)
            if t.poison is not None:
                t.recorded = await failures.record(conn, t.checkpoint, t.poison)
                _log_stop(t, t.poison, t.recorded)
        if all(t.poison is None for t, _ in suspects):
            raise suspects[0][1]

    async def _written(self) -> None:
        """Wait for the write under way (raising what made it fail): PostgreSQL's, then the
        Redis writes of every batch it committed."""
        await self._committed()
        if self._publishing is not None:
            publishing, self._publishing = self._publishing, None
            await publishing

    async def _committed(self) -> None:
        """Wait for PostgreSQL's write under way: the next batch's may start, while Redis still
        takes the documents of the batches it committed."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing

    async def _write(
        self,
        conn: psycopg.AsyncConnection[Any],
        to_save: list[Target],
        to_publish: list[Target],
        rows: dict[Target, Rows],
        batch: FeedBatch,
    ) -> None:
        # Redis documents only once PostgreSQL has committed the batch, in batch order, while
        # PostgreSQL commits the next one. A batch's documents are its changes from its start:
        # a replay must cut at the same end to write them again, or a document changed and
        # changed back across its cut (a line added, then removed) is written by neither batch.
        # So Redis never gets a batch PostgreSQL may not keep, and each generation records the
        # end of the batch it is sent (`RedisSink.write`), where a replay stops (`_step`).
        if to_save:
            async with conn.transaction():
                for t in to_save:
                    for table, table_rows in rows[t].items():
                        await pg_sink.save(conn, table, t.generation, table_rows)
                moved = await checkpoints.move(
                    conn, [t.checkpoint for t in to_save], batch.end, batch.end_hash
                )
            for t, checkpoint in zip(to_save, moved, strict=True):
                t.checkpoint = checkpoint
        self._publishing = asyncio.create_task(
            self._publish(self._publishing, to_publish, rows, batch.end)
        )

    async def _publish(
        self,
        previous: asyncio.Task[None] | None,
        targets: list[Target],
        rows: dict[Target, Rows],
        end: int,
    ) -> None:
        """A committed batch's Redis documents, then its applied position, once the batch before
        it has had its own."""
        if previous is not None:
            await previous
        sent = await self._send(targets, rows, end)
        await self._mark(sent, end)

    async def _send(
        self, targets: list[Target], rows: dict[Target, Rows], end: int
    ) -> list[Target]:
        """Write the targets' Redis documents of the batch ending at `end`, each generation's
        after that end (`RedisSink.write`); return those written (none once Redis fails)."""
        if self.sink is None:
            return []
        sent = []
        for t in targets:
            if t.redis_position is None:  # Redis failed in a write before this one
                continue
            try:
                await self.sink.write(t.generation, rows[t], batch_end=end)
            except REDIS_FAILURES as e:
                self._lost_redis(targets, e)
                return []
            sent.append(t)
        return sent

    async def _mark(self, targets: list[Target], end: int) -> None:
        if self.sink is None or not targets:
            return
        try:
            await self.sink.mark_all_applied([(t.projection, t.generation) for t in targets], end)
        except REDIS_FAILURES as e:
            self._lost_redis(targets, e)

    @staticmethod
    def _lost_redis(targets: list[Target], e: Exception) -> None:
        log.warning("Redis not written (%s); PostgreSQL goes on, Redis catches up later", e)
        for t in targets:
            t.redis_position = None

    async def _read(self, key: Key) -> FeedBatch:
        """The batch, read ahead while the previous one was folded if it was guessed right;
        and, when more is waiting, the next one read ahead while this one is folded."""
        if self._ahead is not None and self._ahead[0] == key:
            batch = await self._ahead[1]
            self._ahead = None
        else:
            self._forget_ahead()
            batch = await self._read_alone(key)
        _, upto, types = key
        if len(batch.events) == self.batch_size and batch.end < upto:
            following = (batch.end, upto, types)
            ahead = asyncio.create_task(self._read_alone(following))
            ahead.add_done_callback(_retrieved)  # a read ahead that fails is read again inline
            self._ahead = (following, ahead)
        return batch

    async def _read_alone(self, key: Key) -> FeedBatch:
        start, upto, types = key
        return await read_batch(self.store, start, upto, stream_types=types, limit=self.batch_size)

    def _forget_ahead(self) -> None:
        if self._ahead is not None:
            self._ahead[1].cancel()
            self._ahead = None


def _log_stop(target: Target, found: failures.Poison, recorded: failures.Recorded) -> None:
    """The traceback once per new failure; one line per later try."""
    where = (
        f"{target.projection.name} ({target.checkpoint.slot.name.lower()}, g{target.generation})"
    )
    event = f"event at feed position {found.position} ({found.event_type}, id {found.event_id})"
    if recorded.new:
        log.error(
            "%s cannot apply the %s: %s. It stops at %d; the other projections go on; tried"
            " again in %.0f s", where, event, found.line, found.position - 1,
            recorded.retry_seconds, exc_info=found.error,
        )  # fmt: skip
    else:
        log.warning(
            "%s still cannot apply the %s (try %d): %s; tried again in %.0f s",
            where, event, recorded.attempts, found.line, recorded.retry_seconds,
        )  # fmt: skip


def _retrieved(task: asyncio.Task[FeedBatch]) -> None:
    if not task.cancelled():
        task.exception()


def _by_table(projection: Projection, changes: list[Change]) -> Rows:
    rows: Rows = {table: [] for table in projection.tables}
    for change in changes:
        table = TABLES[change.table]
        rows[table].append(encode(table, change))
    return rows

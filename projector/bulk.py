"""A rebuild's bulk load: one projection's next generation, from every stream of its type as of
one feed position, written with COPY into a table of its own, then attached and checkpointed
at that position in one transaction. Redis is loaded after the rebuild's switch, from these
rows (`projector.warming`), not here: its one thread would hold the whole load back. The
streams are cut into parts of about as many events (`split`), loaded side by side by loader
processes (`projector.loaders`) into the same table: `begin` readies the generation,
`load_part` loads one part, `finish` attaches the whole once every part is in.

The streams are read in stream order (`EventStore.read_by_stream`), not in feed order: a stream
is folded from its first event to its last in one go and rendered once, then forgotten. Only
one chunk of events and one stream's state are held, whatever the number of streams, and no
stream is ever read back.

"As of feed position p" is what the runner means by it (`projector.states`): a stream stands at
the highest version the feed has shown up to p, every lower version included (committed, even
if sequenced after p), and its documents at the highest feed position among those events. The
runner takes over from p with the events written meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import aclosing, contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg

from domain.codec import decode
from domain.decider import fold
from domain.events import Event
from eventstore import StreamEntry
from projector import changes, checkpoints, failures, pg_sink
from projector.changes import Row, initial, render, row
from projector.engine import Engine
from projector.errors import RebuildError
from readmodels.schema import PROJECTIONS, Projection, Table

log = logging.getLogger("projector.bulk")

FOLD_EVERY = 1024  # events of one stream folded together (bounds a long stream's memory)

Rows = dict[Table, list[Row]]


@dataclass(frozen=True, slots=True)
class Loaded:
    projection: str
    generation: int
    position: int
    events: int
    rows: int


class Folder:
    """Folds a projection's streams, read in stream and version order, as of feed position
    `upto`; hands back each finished stream's documents as rows."""

    def __init__(self, projection: Projection, upto: int) -> None:
        self.projection = projection
        self.upto = upto
        # the projector's deciders, as the live runner folds with (`changes.DECIDERS`)
        self._decider = changes.DECIDERS[projection.stream_type]
        self._stream: str | None = None
        self._state: Any = None
        self._version = 0  # versions read of the current stream
        self._position = 0  # highest feed position at or before `upto` among them
        self._pending: list[Event] = []  # read, not folded yet
        self._included = 0  # how many of the pending are at or before the stream's last one seen

    def feed(self, entries: Sequence[tuple[str, StreamEntry]]) -> Rows:
        """Fold a chunk; the rows of the streams it finished."""
        rows: Rows = {table: [] for table in self.projection.tables}
        for stream_id, entry in entries:
            if stream_id != self._stream:
                self._finish(rows)
                self._begin(stream_id)
            self._version += 1
            if entry.version != self._version:
                raise RebuildError(
                    f"stream {stream_id} reads version {entry.version} where"
                    f" {self._version} was due"
                )
            self._pending.append(decode(entry.type, entry.data))
            at = entry.feed_position
            if at is not None and at <= self.upto:
                self._included = len(self._pending)
                self._position = max(self._position, at)
                if self._included >= FOLD_EVERY:
                    self._fold()
        return rows

    def finish(self) -> Rows:
        """The rows of the last stream."""
        rows: Rows = {table: [] for table in self.projection.tables}
        self._finish(rows)
        self._stream = None
        return rows

    def _begin(self, stream_id: str) -> None:
        self._stream = stream_id
        self._state = initial(self.projection).state
        self._version = self._position = self._included = 0
        self._pending = []

    def _fold(self) -> None:
        self._state = fold(self._decider, self._pending[: self._included], self._state)
        del self._pending[: self._included]
        self._included = 0

    def _finish(self, rows: Rows) -> None:
        if self._stream is None or self._position == 0:
            return  # no stream yet, or none of its events is in the feed up to `upto`
        self._fold()
        by_name = render(self.projection, self._state)
        for table in self.projection.tables:
            out = rows[table]
            for doc in by_name[table.name].values():
                out.append(row(table, doc, self._position))


@dataclass(frozen=True, slots=True)
class Part:
    """A run of one projection's streams, ids from `start` (included) up to `stop` (excluded),
    the last part's through `through` (included): what one loader loads on its own, beside
    the other parts. `start` None: the type had no stream at the cut, nothing to read."""

    projection: str
    generation: int
    upto: int
    start: str | None
    stop: str | None
    through: str | None
    events: int  # about how many: what parts are balanced and handed out by


@dataclass(frozen=True, slots=True)
class PartLoaded:
    events: int
    rows: int
    poison: str | None = None  # the error of an event it cannot apply: the part is given up


async def begin(engine: Engine, projection: Projection, generation: int) -> None:
    """Ready `generation` of a projection for its parts: a table of its own per read-model
    table (what an abandoned load left goes first). Its rebuild checkpoint must stand at 0 in
    that generation."""
    async with engine.store.connection() as conn:
        progress = await checkpoints.read_rebuild(conn, projection.name)
        if progress is None or (progress.generation, progress.position) != (generation, 0):
            raise RebuildError(f"{projection.name} is not waiting for a load of g{generation}")
        for table in projection.tables:
            await pg_sink.begin_load(conn, table, generation)


async def split(
    engine: Engine, projection: Projection, generation: int, upto: int, *, parts: int
) -> list[Part]:
    """The projection's streams cut into at most `parts` parts of about as many events (at least
    one part, and no stream left out: each part ends where the next one starts). Cut after
    `upto` was taken, so the first part starts at the type's first stream and the last ends
    at its last (`EventStore.stream_ranges`): a part reads its own streams, not the other
    types' around them (a projection of 50 streams read the whole event log)."""
    runs = await engine.store.stream_ranges(projection.stream_type, parts)
    if not runs:
        return [Part(projection.name, generation, upto, None, None, None, 0)]
    stops = [*(r.first for r in runs[1:]), None]
    return [
        Part(projection.name, generation, upto, run.first, stop,
             runs[-1].last if stop is None else None, run.events)
        for run, stop in zip(runs, stops, strict=True)
    ]  # fmt: skip


async def load_part(
    engine: Engine, part: Part, *, chunk: int, on_chunk: Callable[[int], None] | None = None
) -> PartLoaded:
    """Fold a part's streams as of its feed position and copy their rows into the generation's
    own table. `on_chunk`: told the part's events folded so far, after each chunk.
    An event it cannot apply gives the part up (`PartLoaded.poison`): the projection is then
    left to the runner (`finish`)."""
    projection = next(p for p in PROJECTIONS if p.name == part.projection)
    spent = Spent()
    async with engine.store.connection() as conn:
        writer = _Writer(conn, _waiting(projection, part.generation))
        try:
            folder = Folder(projection, part.upto)
            events, rows = await _copy(engine, folder, writer, part, chunk, spent=spent,
                                       told=on_chunk)  # fmt: skip
        except CannotApplyError as e:
            return PartLoaded(0, 0, poison=failures.error_line(e.error))
        finally:
            await writer.abandon()
    log.info(
        "%s [%s, %s%s: %d events, %d rows in %s", projection.name, part.start or "",
        part.stop or part.through or "", ")" if part.stop else "]", events, rows,
        ", ".join(f"{what} {seconds:.2f} s" for what, seconds in spent.seconds.items()),
    )  # fmt: skip
    return PartLoaded(events, rows)


async def finish(
    engine: Engine, projection: Projection, generation: int, upto: int, parts: list[PartLoaded]
) -> Loaded:
    """Once every part is loaded: attach the generation's tables and move its checkpoint to
    `upto` in one transaction; or, when a part met an event it cannot apply, leave the
    projection to the runner."""
    poison = next((p.poison for p in parts if p.poison is not None), None)
    if poison is not None:
        return await _left_to_the_runner(engine, projection, generation, poison)
    feed_hash = await engine.store.feed_hash(upto) if upto else None
    async with engine.store.connection() as conn, conn.transaction():
        for table in projection.tables:
            await pg_sink.end_load(conn, table, generation)
        await checkpoints.move(conn, [_waiting(projection, generation)], upto, feed_hash)
    events, rows = sum(p.events for p in parts), sum(p.rows for p in parts)
    return Loaded(projection.name, generation, upto, events, rows)


def _waiting(projection: Projection, generation: int) -> checkpoints.Checkpoint:
    """The rebuild checkpoint of a generation being loaded: at 0 until `finish` moves it."""
    return checkpoints.Checkpoint(projection.name, checkpoints.Slot.REBUILD, generation, 0)


class CannotApplyError(Exception):
    """Decoding, folding or rendering a stream raised for a reason of the event's own (not the
    store's or the load's writes): the projection is left to the runner (`finish`)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _folded(fold: Callable[..., Rows], *entries: Sequence[tuple[str, StreamEntry]]) -> Rows:
    try:
        return fold(*entries)
    except Exception as e:
        if failures.is_the_events(e):
            raise CannotApplyError(e) from e
        raise


async def _left_to_the_runner(
    engine: Engine, projection: Projection, generation: int, error: str
) -> Loaded:
    """A stream the fold or render cannot take (a poison event): the bulk load gives this
    projection up and leaves its generation empty, attached and at position 0, for the
    rebuild's runner to replay it event by event. The runner stops it just before that event
    and records which one (`runner`, `poison`), as a live catch-up does, so the projection is not
    switched and the operator is told; the others load and switch as usual. On a connection of
    its own: the load's may have been cut in the middle of a COPY."""
    log.warning(
        "%s: the bulk load met an event it cannot apply (%s); the runner replays it event by"
        " event to find it", projection.name, error,
    )  # fmt: skip
    async with engine.store.connection() as conn, conn.transaction():
        for table in projection.tables:
            await pg_sink.begin_load(conn, table, generation)  # what the load wrote goes
            await pg_sink.end_load(conn, table, generation)
    return Loaded(projection.name, generation, 0, 0, 0)


async def _copy(
    engine: Engine,
    folder: Folder,
    writer: _Writer,
    part: Part,
    chunk: int,
    *,
    spent: Spent,
    told: Callable[[int], None] | None,
) -> tuple[int, int]:
    """Read, fold and write every stream of the part; (events, rows)."""
    events = rows = 0
    if part.start is None:
        return events, rows
    stream_type = folder.projection.stream_type
    reading = engine.store.read_by_stream(stream_type, chunk, start=part.start, stop=part.stop,
                                          through=part.through)  # fmt: skip
    async with aclosing(reading) as chunks:
        while True:
            with spent("read"):
                entries = await anext(chunks, None)
            if entries is None:
                break
            events += len(entries)
            with spent("fold"):
                folded = _folded(folder.feed, entries)
            with spent("write"):  # what the previous chunk's writes still took
                rows += await writer.write(folded, events)
            if told is not None:
                told(events)
    with spent("fold"):
        folded = _folded(folder.finish)
    with spent("write"):
        rows += await writer.write(folded, events)
        await writer.written()
    return events, rows


class Spent:
    """Seconds spent on each part of a load (what its log line tells)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, what: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[what] = self.seconds.get(what, 0.0) + time.perf_counter() - start


class _Writer:
    """Writes a chunk's rows while the next chunk is read and folded: one write at a time, in
    order, so at most two chunks' rows are held."""

    def __init__(
        self, conn: psycopg.AsyncConnection[Any], progress: checkpoints.Checkpoint
    ) -> None:
        self.conn, self.progress = conn, progress
        self.generation = progress.generation
        self._counted = 0  # events already added to the rebuild's progress row
        self._writing: asyncio.Task[None] | None = None

    async def write(self, rows: Rows, events: int) -> int:
        """Start writing a chunk's rows (once the previous chunk's are written), then count the
        events they come from in the rebuild's progress row."""
        await self.written()
        self._writing = asyncio.create_task(self._write(rows, events))
        return sum(len(r) for r in rows.values())

    async def written(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing

    async def abandon(self) -> None:
        """Stop a write still under way (the load failed): the connection goes back idle."""
        if self._writing is not None:
            self._writing.cancel()
            await asyncio.gather(self._writing, return_exceptions=True)
            self._writing = None

    async def _write(self, rows: Rows, events: int) -> None:
        for table, table_rows in rows.items():
            await pg_sink.copy_rows(self.conn, table, self.generation, table_rows)
        await checkpoints.count_loaded(self.conn, self.progress, events - self._counted)
        self._counted = events

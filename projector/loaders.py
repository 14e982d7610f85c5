"""A rebuild's loader processes: as many as the machine has cores (`ORDERS_REBUILD_WORKERS`),
each loading parts of the projections one after another (`projector.bulk`), so that a rebuild
uses every core (decoding, folding and rendering are Python, one core per process) whatever the
number of projections, and one projection with most of the events is shared among them.

Every projection is cut into parts of about the same number of events (a run of its stream ids
each), handed out largest first to whichever loader is free, so the loaders finish together.
A projection is attached and checkpointed (`bulk.finish`) as soon as its last part is in.

The rebuild starts the loaders (`BOOT`) and sends each, pickled on its stdin, how to reach the
servers, then one part at a time. Each loader also gets the read end of a pipe whose write end
only the rebuild holds: it exits as soon as that pipe ends, so a rebuild that is killed,
however, takes its loaders with it instead of leaving orphans that go on writing. A loader
answers with JSON lines on stdout: events folded so far, then what it loaded (with its peak
RSS), or the last line of its error. A loader that fails stops the others; a generation is only
ever attached with its checkpoint, so nothing half loaded is ever served, and the next rebuild
loads it again from scratch.

Memory: the budget (`ORDERS_REBUILD_MEMORY`) is shared by the loaders; it sets how many events
each reads at a time and, when it is small, how many run. What a loader holds does not grow with
the number of streams: one chunk being folded, one being written, one stream's state.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import pickle
import resource
import sys
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from orders.settings import Settings
from projector import bulk
from projector.engine import Engine, Opened, open_engine
from projector.errors import RebuildError
from readmodels.schema import Projection

log = logging.getLogger("projector.loaders")

# A loader's first lines: a thread that ends the process once the rebuild's end of the pipe
# whose other end is argv[1] closes (the rebuild exited, killed or not), started before the
# imports (seconds on a busy machine), then the loader itself.
BOOT = (
    "import os, sys, threading\n"
    "def watch(fd=int(sys.argv[1])):\n"
    "    os.read(fd, 1)\n"
    "    os._exit(70)\n"
    "threading.Thread(target=watch, daemon=True).start()\n"
    "from projector.loaders import main\n"
    "main()\n"
)

PROCESS_BYTES = 128 << 20  # a loader before its first chunk: interpreter, modules, pools
EVENT_BYTES = 4 << 10  # held per event of a chunk, two chunks at a time (rows, data, events)
MIN_CHUNK, MAX_CHUNK = 1_000, 20_000  # past 20k events a chunk is no faster, only bigger
PARTS_PER_LOADER = 3  # enough for the loaders to end together, few enough to cost nothing


@dataclass(frozen=True, slots=True)
class Plan:
    parallel: int  # loaders running at once
    chunk: int  # events each reads at a time


def plan(budget: int, loaders: int) -> Plan:
    """How many loaders run at once and how many events each reads at a time, within `budget`
    bytes: as many at once as fit with the smallest chunk, then the largest chunk that fits."""
    smallest = PROCESS_BYTES + MIN_CHUNK * EVENT_BYTES
    parallel = max(1, min(loaders, budget // smallest))
    chunk = (budget // parallel - PROCESS_BYTES) // EVENT_BYTES
    return Plan(parallel, max(MIN_CHUNK, min(MAX_CHUNK, chunk)))


@dataclass(frozen=True, slots=True)
class Job:
    """What a loader process is started with (the first thing its stdin carries)."""

    opened: Opened
    chunk: int


@dataclass(frozen=True, slots=True)
class Report:
    loaded: bulk.Loaded
    peak_rss: int | None  # bytes, of the loaders that loaded it; None: loaded in this process


async def load_all(
    engine: Engine,
    loads: Sequence[tuple[Projection, int]],
    upto: int,
    *,
    on_progress: Callable[[str, int], None] | None = None,
) -> list[Report]:
    """Load each (projection, generation) as of feed position `upto`, in loader processes (in
    this process, one part after the other, when the engine was built by hand); `on_progress`
    is told (projection, events folded) as they go."""
    if not loads:
        return []
    settings = Settings()
    job_plan = plan(settings.rebuild_memory, settings.rebuild_workers)
    if engine.opened is None:
        loading = await _cut(engine, loads, upto, job_plan, on_progress)
        while loading.queue:
            part = loading.queue.popleft()
            loaded = await bulk.load_part(
                engine, part, chunk=job_plan.chunk, on_chunk=loading.told(part)
            )
            await loading.done(part, loaded, None)
        return loading.reports()
    job, loaders = Job(engine.opened, job_plan.chunk), list[_Loader]()
    try:
        # started first: their imports (half a second each) run while the parts are cut
        for _ in range(job_plan.parallel):
            loaders.append(await _Loader.start(job))
        loading = await _cut(engine, loads, upto, job_plan, on_progress)
        async with asyncio.TaskGroup() as group:  # one failing cancels (and kills) the others
            for loader in loaders:
                group.create_task(loader.serve(loading))
    finally:
        for loader in loaders:
            await loader.stop()
    return loading.reports()


async def _cut(
    engine: Engine,
    loads: Sequence[tuple[Projection, int]],
    upto: int,
    job_plan: Plan,
    on_progress: Callable[[str, int], None] | None,
) -> _Loading:
    """Ready every generation and cut the projections into parts."""
    for projection, generation in loads:
        await bulk.begin(engine, projection, generation)
    parts = await _parts(engine, loads, upto, loaders=job_plan.parallel)
    log.info(
        "%d parts, %d loaders, %d events a chunk", len(parts), job_plan.parallel, job_plan.chunk
    )  # fmt: skip
    return _Loading(engine, loads, parts, on_progress)


async def _parts(
    engine: Engine,
    loads: Sequence[tuple[Projection, int]],
    upto: int,
    *,
    loaders: int,
) -> list[bulk.Part]:
    """Every projection cut into parts of about the same size, largest first: the whole load
    in `PARTS_PER_LOADER` parts per loader, so that the last to end is a small one."""
    totals = [
        sum(r.events for r in await engine.store.stream_ranges(p.stream_type, 1)) for p, _ in loads
    ]
    size = max(1, -(-sum(totals) // (loaders * PARTS_PER_LOADER)))
    parts = [
        part
        for (projection, generation), total in zip(loads, totals, strict=True)
        for part in await bulk.split(
            engine, projection, generation, upto, parts=max(1, -(-total // size))
        )
    ]
    return sorted(parts, key=lambda p: p.events, reverse=True)


class _Loading:
    """The parts still to load, what each part under way has folded, and each projection's
    parts loaded so far: the last one in finishes the projection (`bulk.finish`)."""

    def __init__(
        self,
        engine: Engine,
        loads: Sequence[tuple[Projection, int]],
        parts: list[bulk.Part],
        on_progress: Callable[[str, int], None] | None,
    ) -> None:
        self.engine = engine
        self.queue = deque(parts)
        self._loads = {p.name: (p, g) for p, g in loads}
        self._parts = defaultdict[str, list[bulk.Part]](list)
        for part in parts:
            self._parts[part.projection].append(part)
        self._loaded = defaultdict[str, list[bulk.PartLoaded]](list)
        self._rss: dict[str, int | None] = {}
        self._folded: dict[int, int] = {}  # events folded so far, by part (its id)
        self._on_progress = on_progress
        self._finished: dict[str, bulk.Loaded] = {}

    def told(self, part: bulk.Part) -> Callable[[int], None]:
        """What a part's loader says as it goes: the part's events folded so far."""

        def tell(events: int) -> None:
            self._folded[id(part)] = events
            if self._on_progress is not None:
                parts = self._parts[part.projection]
                self._on_progress(part.projection, sum(self._folded.get(id(p), 0) for p in parts))

        return tell

    async def done(self, part: bulk.Part, loaded: bulk.PartLoaded, rss: int | None) -> None:
        name = part.projection
        self._loaded[name].append(loaded)
        if rss is not None:
            self._rss[name] = max(self._rss.get(name) or 0, rss)
        if len(self._loaded[name]) == len(self._parts[name]):
            projection, generation = self._loads[name]
            self._finished[name] = await bulk.finish(
                self.engine, projection, generation, part.upto, self._loaded[name]
            )

    def reports(self) -> list[Report]:
        return [Report(self._finished[name], self._rss.get(name)) for name in self._loads]


class _Loader:
    """A loader process, as the rebuild sees it: parts go in, outcomes come out."""

    def __init__(self, process: asyncio.subprocess.Process, held: int) -> None:
        self.process = process
        self._held = held  # our end of its liveness pipe

    @classmethod
    async def start(cls, job: Job) -> _Loader:
        alive, held = os.pipe()  # the loader reads `alive`; `held` stays here, never written
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-c", BOOT, str(alive), pass_fds=(alive,),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
        except BaseException:
            os.close(held)
            raise
        finally:
            os.close(alive)
        loader = cls(process, held)
        loader._send(job)
        return loader

    def _send(self, message: Job | bulk.Part) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(pickle.dumps(message))

    async def serve(self, loading: _Loading) -> None:
        """Load parts from the queue until none is left, then let the process go."""
        assert self.process.stdin is not None
        while loading.queue:
            part = loading.queue.popleft()
            self._send(part)
            await self.process.stdin.drain()
            loaded, rss = await self._answer(part, loading.told(part))
            await loading.done(part, loaded, rss)
        self.process.stdin.close()  # no more parts: the loader leaves
        await self.process.wait()

    async def _answer(
        self, part: bulk.Part, tell: Callable[[int], None]
    ) -> tuple[bulk.PartLoaded, int]:
        assert self.process.stdout is not None
        error = None
        while line := await self.process.stdout.readline():
            told = json.loads(line)
            if "events" in told:
                tell(told["events"])
            elif "loaded" in told:
                return bulk.PartLoaded(**told["loaded"]), told["peak_rss"]
            elif "error" in told:
                error = told["error"]
        code = await self.process.wait()
        raise RebuildError(f"a loader of {part.projection} failed: {error or f'exit {code}'}")

    async def stop(self) -> None:
        """Once served, or when the rebuild failed elsewhere (then it is killed)."""
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        os.close(self._held)


def main() -> None:
    """A loader process (started by `BOOT`): the job, then parts, from stdin; progress and
    outcomes on stdout. It leaves by `os._exit`: the thread blocked on its liveness pipe would
    stop a normal interpreter exit."""
    job: Job = pickle.load(sys.stdin.buffer)  # noqa: S301 - from the rebuild that started us
    # a load makes and drops millions of small objects freed by reference counting: the
    # collector's young generation, run every 700 allocations by default, would walk them for
    # cycles that are not there
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), stream=sys.stderr)
    code = 0
    try:
        asyncio.run(_serve(job))
    except Exception as e:  # told to the rebuild, which fails with it
        log.exception("a loader failed")
        _tell({"error": f"{type(e).__name__}: {e}"})
        code = 1
    logging.shutdown()
    sys.stderr.flush()
    os._exit(code)


async def _serve(job: Job) -> None:
    opened = job.opened  # no Redis: it is loaded after the switch (`projector.warming`)
    engine = await open_engine(
        opened.database_url, None, master=opened.master, application_name="rebuild-loader"
    )
    try:
        while (part := _next_part()) is not None:
            loaded = await bulk.load_part(
                engine, part, chunk=job.chunk, on_chunk=lambda events: _tell({"events": events})
            )
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
            _tell({"loaded": asdict(loaded), "peak_rss": peak})
    finally:
        await engine.close()


def _next_part() -> bulk.Part | None:
    """The next part the rebuild sends (it waits for each outcome first); None once it closed
    our stdin."""
    try:
        part: bulk.Part = pickle.load(sys.stdin.buffer)  # noqa: S301 - from the rebuild
    except EOFError:
        return None
    return part


def _tell(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()

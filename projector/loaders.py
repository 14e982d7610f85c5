"""A rebuild's loader processes: one per projection (`projector.bulk.load`), so that a rebuild
uses every core (decoding, folding and rendering are Python, one core per process).

The rebuild starts them (`BOOT`) and sends each what it loads, pickled on its stdin; each also
gets the read end of a pipe whose write end only the rebuild holds: a loader exits as soon as
that pipe ends, so a rebuild that is killed, however, takes its loaders with it instead of
leaving orphans that go on writing. A loader answers with JSON lines on stdout: events folded
so far, then what it loaded (with its peak RSS), or the last line of its error. A loader that
fails stops the others; its generation is only ever attached with its checkpoint, so nothing
half loaded is ever served, and the next rebuild loads it again from scratch.

Memory: the budget (`ORDERS_REBUILD_MEMORY`) is shared by the loaders running at once; it sets
how many events each reads at a time and, when it is small, how many run at once. What a
loader holds does not grow with the number of streams: one chunk being folded, one being
written, one stream's state.
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
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

from orders.settings import Settings
from projector import bulk
from projector.engine import Engine, Opened, open_engine
from projector.errors import RebuildError
from readmodels.schema import PROJECTIONS, Projection

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
    """What one loader loads, and from where (what its stdin carries)."""

    opened: Opened
    projection: str
    generation: int
    upto: int
    chunk: int


@dataclass(frozen=True, slots=True)
class Report:
    loaded: bulk.Loaded
    peak_rss: int | None  # bytes; None: loaded in the rebuild's own process


async def load_all(
    engine: Engine,
    loads: Sequence[tuple[Projection, int]],
    upto: int,
    *,
    on_progress: Callable[[str, int], None] | None = None,
) -> list[Report]:
    """Load each (projection, generation) as of feed position `upto`, a process each (in this
    process, one after the other, when the engine was built by hand); `on_progress` is told
    (projection, events folded) as they go."""
    if not loads:
        return []
    job_plan = plan(Settings().rebuild_memory, len(loads))
    if engine.opened is None:
        return [
            Report(await bulk.load(engine, p, g, upto, chunk=job_plan.chunk,
                                   on_chunk=_told(on_progress, p.name)), None)
            for p, g in loads
        ]  # fmt: skip
    log.info(
        "%d loaders, %d at once, %d events a chunk", len(loads), job_plan.parallel, job_plan.chunk
    )
    running = asyncio.Semaphore(job_plan.parallel)
    opened = engine.opened

    async def one(projection: Projection, generation: int) -> Report:
        async with running:
            job = Job(opened, projection.name, generation, upto, job_plan.chunk)
            return await _run(job, on_progress)

    async with asyncio.TaskGroup() as group:  # one failing cancels (and kills) the others
        tasks = [group.create_task(one(p, g)) for p, g in loads]
    return [t.result() for t in tasks]


def _told(on_progress: Callable[[str, int], None] | None, name: str) -> Callable[[int], None]:
    return lambda events: None if on_progress is None else on_progress(name, events)


async def _run(job: Job, on_progress: Callable[[str, int], None] | None) -> Report:
    alive, held = os.pipe()  # the loader reads `alive`; `held` stays here, never written
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-c", BOOT, str(alive), pass_fds=(alive,),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
    finally:
        os.close(alive)
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        process.stdin.write(pickle.dumps(job))
        await process.stdin.drain()
        report, error = None, None
        async for line in process.stdout:
            told = json.loads(line)
            if "events" in told and on_progress is not None:
                on_progress(job.projection, told["events"])
            elif "loaded" in told:
                report = Report(bulk.Loaded(**told["loaded"]), told["peak_rss"])
            elif "error" in told:
                error = told["error"]
        code = await process.wait()
    finally:
        if process.returncode is None:  # cancelled: the rebuild failed elsewhere
            process.kill()
            await process.wait()
        os.close(held)
    if report is None:
        raise RebuildError(f"the loader of {job.projection} failed: {error or f'exit {code}'}")
    return report


def main() -> None:
    """A loader process (started by `BOOT`): the job from stdin, progress and outcome on
    stdout. It leaves by `os._exit`: the thread blocked on its liveness pipe would stop a normal
    interpreter exit."""
    job: Job = pickle.load(sys.stdin.buffer)  # noqa: S301 - from the rebuild that started us
    # a load makes and drops millions of small objects freed by reference counting: the
    # collector's young generation, run every 700 allocations by default, would walk them for
    # cycles that are not there
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), stream=sys.stderr)
    code = 0
    try:
        loaded = asyncio.run(_load(job))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux counts KiB
        _tell({"loaded": asdict(loaded), "peak_rss": peak})
    except Exception as e:  # told to the rebuild, which fails with it
        log.exception("loading %s failed", job.projection)
        _tell({"error": f"{type(e).__name__}: {e}"})
        code = 1
    logging.shutdown()
    sys.stderr.flush()
    os._exit(code)


async def _load(job: Job) -> bulk.Loaded:
    opened = job.opened
    engine = await open_engine(
        opened.database_url, opened.redis_url, master=opened.master,
        application_name=f"rebuild-{job.projection}",
    )  # fmt: skip
    try:
        projection = next(p for p in PROJECTIONS if p.name == job.projection)
        return await bulk.load(
            engine, projection, job.generation, job.upto, chunk=job.chunk,
            on_chunk=lambda events: _tell({"events": events}),
        )  # fmt: skip
    finally:
        await engine.close()


def _tell(message: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()

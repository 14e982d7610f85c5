"""Who measures the benchmark's fixed GETs: wrk when it is on PATH, else the project's own
generator, `httpload` in several processes, so `orders bench` needs nothing `make` does not
install. Every row says which one measured it (`Row.generator`).

One Python process is not enough here: at the trivial endpoint's rate (thousands of requests
a second on 2 cores) a single asyncio loop spends more CPU per request than the server does,
and the generator, not the server, sets the figure. Each process runs `httpload.sample` on its
share of the connections, all from the same start to the same end, and their samples are
merged (percentiles over every request, not averages of percentiles).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import Any

from loadtest import httpload
from loadtest.httpload import Load, Samples

PROCESSES = min(os.cpu_count() or 1, 4)
START_SECONDS = 1.0  # time for the processes to start before they all begin


@dataclass(frozen=True, slots=True)
class Generator:
    name: str  # what the table says
    get: Callable[[str, int, float], Load]  # (url, connections, seconds) -> load


def choose(preference: str = "auto") -> Generator:
    """wrk if asked for or, with "auto", if installed; else httpload in PROCESSES processes."""
    if preference == "wrk" or (preference == "auto" and shutil.which("wrk")):
        return Generator("wrk, 1 thread", httpload.wrk)
    return Generator(f"httpload, {PROCESSES} processes", get_many)


def get_many(url: str, connections: int, seconds: float) -> Load:
    """GET `url` on `connections` keep-alive connections, shared by PROCESSES processes."""
    httpload.local(url)
    processes = min(PROCESSES, connections)
    shares = [connections // processes + (i < connections % processes) for i in range(processes)]
    start_at = time.time() + START_SECONDS  # a wall clock: the processes share it
    with ProcessPoolExecutor(processes, mp_context=get_context("spawn")) as pool:
        parts = list(pool.map(_get, [url] * processes, shares, [start_at] * processes,
                              [seconds] * processes))  # fmt: skip
    merged = Samples(
        [s for part in parts for s in part.latencies],
        sum(part.errors for part in parts),
        max(part.seconds for part in parts),
    )
    return merged.load()


def _get(url: str, connections: int, start_at: float, seconds: float) -> Samples:
    """One process's share (runs in a child process)."""
    time.sleep(max(0.0, start_at - time.time()))
    _, _, rest = url.partition("://")
    host, _, path = rest.partition("/")
    base, target = f"http://{host}", f"/{path}"

    def request(_c: int, _n: int) -> tuple[str, str, bytes]:
        return "GET", target, b""

    deadline = time.perf_counter() + seconds
    return _run(httpload.sample(base, connections, deadline, request))


def _run(coroutine: Coroutine[Any, Any, Samples]) -> Samples:
    """On uvloop when it is installed (uvicorn[standard] brings it): a cheaper loop, so more
    of the CPU goes to the server being measured."""
    try:
        import uvloop  # noqa: PLC0415 - optional: used when installed
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)

"""CPU spent per request by each part of a running platform: where a command's milliseconds go.

The platform's processes are found from `orders up` (its children, told apart by the service
they run) and from its data folder (the embedded PostgreSQL's postmaster and its backends, the
embedded Redis by its pid file). A load step reads their CPU times before and after; the
difference over the requests served is CPU milliseconds per request, per part.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import psutil

PARTS = ("command-api", "query-api", "projector", "postgresql", "redis")


def _part(process: psutil.Process) -> str | None:
    command = " ".join(process.cmdline())
    for service in ("command-api", "query-api", "projector"):
        if f"launch.cli {service}" in command or f"launch.serve:{service[:-4]}" in command:
            return service
    return None


def _services(root: int | None) -> Iterator[tuple[str, psutil.Process]]:
    """`orders up`'s descendants by service (an API's server and its workers are one part)."""
    if root is None:
        return
    for child in psutil.Process(root).children(recursive=True):
        with contextlib.suppress(psutil.Error):
            part = _part(child) or _part(child.parent())
            if part is not None:
                yield part, child


def _servers(data_dir: Path) -> Iterator[tuple[str, psutil.Process]]:
    pgdata = str((data_dir / "postgres").resolve())
    for process in psutil.process_iter(["name", "cmdline"]):
        with contextlib.suppress(psutil.Error):
            if pgdata in " ".join(process.info["cmdline"] or ()):
                yield "postgresql", process
                for backend in process.children():
                    yield "postgresql", backend
    pidfile = data_dir / "redis" / "redis.pid"
    if pidfile.exists():
        with contextlib.suppress(psutil.Error, ValueError):
            yield "redis", psutil.Process(int(pidfile.read_text().strip()))


def cpu_seconds(root: int | None, data_dir: Path) -> dict[tuple[str, int], float]:
    """User + system CPU of every process of the platform, by (part, pid); with no `root`, of
    the data folder's servers only."""
    seen: dict[tuple[str, int], float] = {}
    for part, process in [*_services(root), *_servers(data_dir)]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            seen[(part, process.pid)] = times.user + times.system
    return seen


def per_request_ms(
    before: dict[tuple[str, int], float], after: dict[tuple[str, int], float], requests: int
) -> dict[str, float]:
    """CPU milliseconds per request by part (a backend that came and went during the step
    counts from zero; one that went before the end is lost, a small undercount)."""
    spent = dict.fromkeys(PARTS, 0.0)
    for key, seconds in after.items():
        spent[key[0]] += seconds - before.get(key, 0.0)
    return {part: 1000 * seconds / max(requests, 1) for part, seconds in spent.items()}


def own_cpu_seconds() -> float:
    """User + system CPU of this process (a load generator's or an in-process driver's share)."""
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)

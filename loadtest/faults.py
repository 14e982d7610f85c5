"""The faults of issue 9, each one short and self-healing, injected into a running `Cluster`:
the soak draws them at random, the fault tests call them by name.

Each returns a line of what it observed; a fault that could not do what it promises (a Redis
that will not come back, a blocker that `orders projections status` does not name) raises.
They block (signals, subprocesses, servers starting): call them from a thread next to traffic.
"""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psycopg

from loadtest.cluster import Cluster

BLOCKER_APPLICATION = "faults-long-transaction"


def kill_projector(cluster: Cluster, rng: random.Random) -> str:
    name = rng.choice(cluster.of("projector")).name
    pid = cluster.kill_projector(name)
    return f"{name} {pid} killed"


def kill_projector_in_rebuild(cluster: Cluster, rng: random.Random) -> str:
    """Start `orders projections rebuild`, SIGKILL the projector while it runs (and, one time
    in three, the rebuild itself); a killed rebuild is run again to completion."""
    with _rebuild_process(cluster) as rebuild:
        _wait_rebuilding(cluster.database_url, rebuild)
        time.sleep(rng.uniform(0.0, 0.5))
        name = rng.choice(cluster.of("projector")).name
        pid = cluster.kill_projector(name)
        killed_rebuild = rebuild.poll() is None and rng.random() < 1 / 3
        if killed_rebuild:
            loaders = children(rebuild.pid)
            rebuild.send_signal(signal.SIGKILL)
            cluster.faults.add("rebuild_killed")
            gone(loaders, "loader processes of the killed rebuild")
        rebuild.wait(600)
    if killed_rebuild:
        cluster.orders("projections", "rebuild")
    elif rebuild.returncode != 0:
        raise RuntimeError(f"the rebuild failed: {rebuild.returncode}")
    cluster.faults.add("projector_killed_in_rebuild")
    return f"{name} {pid} killed during a rebuild" + (" (rebuild killed too)" * killed_rebuild)


def children(pid: int) -> list[int]:
    """The processes `pid` started and that still run (Linux: from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # the parent's pid is the second field after the command, which is in parentheses
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def gone(pids: list[int], what: str, seconds: float = 10.0) -> None:
    """Wait until none of `pids` runs (a zombie counts as gone); raise if some outlive it."""
    deadline = time.monotonic() + seconds
    while True:
        left = [p for p in pids if _running(p)]
        if not left:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} still run: {left}")
        time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _wait_rebuilding(database_url: str, rebuild: subprocess.Popen[bytes]) -> None:
    """Until a rebuild's progress row exists (it is under way) or the rebuild has ended."""
    deadline = time.monotonic() + 60
    with psycopg.connect(database_url, autocommit=True) as conn:
        while rebuild.poll() is None and time.monotonic() < deadline:
            row = conn.execute("SELECT count(*) FROM projection_rebuilds").fetchone()
            if row and row[0]:
                return
            time.sleep(0.05)


@contextlib.contextmanager
def _rebuild_process(cluster: Cluster) -> Iterator[subprocess.Popen[bytes]]:
    rebuild = subprocess.Popen(
        [sys.executable, "-m", "launch.cli", "projections", "rebuild"], env=cluster.platform.env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        yield rebuild
    finally:
        if rebuild.poll() is None:
            rebuild.kill()
            rebuild.wait()


def redis_outage(cluster: Cluster, rng: random.Random) -> str:
    kill = rng.random() < 0.5  # noqa: PLR2004
    down = rng.uniform(1.5, 5.0)
    cluster.servers.stop_redis(kill=kill)
    time.sleep(down)
    cluster.servers.start_redis()
    return f"Redis {'killed' if kill else 'stopped'} for {down:.1f} s"


def postgres_outage(cluster: Cluster, rng: random.Random) -> str:
    immediate = rng.random() < 0.3  # noqa: PLR2004
    down = rng.uniform(1.5, 5.0)
    cluster.servers.stop_postgres(immediate=immediate)
    time.sleep(down)
    cluster.servers.start_postgres()
    return f"PostgreSQL {'crashed' if immediate else 'stopped'} for {down:.1f} s"


@contextlib.contextmanager
def horizon_held(database_url: str) -> Iterator[int]:
    """An open transaction holding an xid (so the sequencer's horizon) until the block ends;
    its backend PID."""
    with psycopg.connect(database_url, application_name=BLOCKER_APPLICATION) as conn:
        conn.execute("SELECT pg_current_xact_id()")
        try:
            yield conn.info.backend_pid
        finally:
            conn.rollback()


HORIZON_NAMED_SECONDS = 30.0


def hold_horizon(cluster: Cluster, rng: random.Random) -> str:
    """Hold the horizon while the traffic writes: `orders projections status` and the query
    API's health must name the blocking backend (once a write waits behind it)."""
    held = rng.uniform(2.0, 6.0)
    with horizon_held(cluster.database_url) as pid:
        start = time.monotonic()
        by_status = by_health = False
        # held for its random time, and on until a write has waited behind it and both name
        # it (right after another fault the traffic may not write for a moment), at most 30 s
        while time.monotonic() < start + held or (
            not (by_status and by_health) and time.monotonic() < start + HORIZON_NAMED_SECONDS
        ):
            status = cluster.orders("projections", "status")
            by_status = by_status or f"pid {pid} ({BLOCKER_APPLICATION})" in status
            by_health = by_health or pid in _health_blockers(cluster)
            time.sleep(0.5)
        held = time.monotonic() - start
    cluster.faults.add("horizon_held")
    if not (by_status and by_health):
        raise RuntimeError(
            f"the blocker pid {pid} was not named by"
            + " and".join([" projections status"] * (not by_status) + [" health"] * (not by_health))
        )
    return f"horizon held by pid {pid} for {held:.1f} s, named by projections status and health"


def _health_blockers(cluster: Cluster) -> set[int]:
    try:
        report = httpx.get(f"{cluster.query_url}/health_check", timeout=5).json()
        return {b["pid"] for b in report["checks"]["projections"]["blockers"]}
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return set()


def kill_api_worker(cluster: Cluster, rng: random.Random) -> str:
    name = rng.choice(cluster.of("command-api")).name
    busiest = cluster.busiest_worker(name)
    if busiest is None:
        return f"no {name} worker to kill"
    worker, in_flight = busiest
    workers = len(cluster.api_workers(name))
    cluster.kill_api_worker(worker, name)
    cluster.wait_workers(workers, name)
    return f"{name} worker {worker.pid} killed with {in_flight} request(s) in flight"


def kill_instance(cluster: Cluster, rng: random.Random) -> str:
    """A whole API instance lost (its supervisor and workers, SIGKILL) for a few seconds, the
    others serving meanwhile: the traffic's requests to it fail in transit and are sent again,
    with the same key, to the next instance; then it comes back (the deployment restarts it)."""
    name = rng.choice([*cluster.of("command-api"), *cluster.of("query-api")]).name
    down = rng.uniform(1.0, 4.0)
    pid = cluster.kill_instance(name)
    time.sleep(down)
    cluster.start_service(name)
    cluster.wait_healthy()
    return f"{name} {pid} killed, down {down:.1f} s"


Fault = Callable[[Cluster, random.Random], str]
FAULTS: dict[str, Fault] = {
    "kill projector": kill_projector,
    "kill projector in rebuild": kill_projector_in_rebuild,
    "redis outage": redis_outage,
    "postgres outage": postgres_outage,
    "hold horizon": hold_horizon,
    "kill api worker": kill_api_worker,
}
# a whole instance lost, with others of its service serving meanwhile
SEVERAL_INSTANCES: dict[str, Fault] = {"kill instance": kill_instance}


def for_cluster(cluster: Cluster) -> dict[str, Fault]:
    """The faults that a cluster of its number of instances survives by design."""
    return FAULTS | (SEVERAL_INSTANCES if cluster.instances > 1 else {})

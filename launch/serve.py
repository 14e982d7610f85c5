"""Running an API: granian with the platform's settings, one or several worker processes.

Each worker builds its app from the environment (`factory=True`), so `orders up` passes the
servers' URLs down as DATABASE_URL / REDIS_URL and every worker connects to the same ones.
"""

from __future__ import annotations

import logging
import os
import shutil

from fastapi import FastAPI
from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

from orders.embedded import ensure_servers
from orders.logs import TO_ROOT, setup_logging
from orders.settings import Settings

log = logging.getLogger("launch.serve")


# The apps are imported by the factories, in the worker processes, and never at the top: the
# metrics (`orders.metrics`) pick prometheus_client's multi-process mode when first imported,
# which must be after `serve` has set PROMETHEUS_MULTIPROC_DIR, or every worker counts alone.


def command_app() -> FastAPI:
    from command_api.app import create_app  # noqa: PLC0415 - after PROMETHEUS_MULTIPROC_DIR

    settings = Settings()
    setup_logging("command-api", settings.log_level, settings.log_format)
    endpoints = ensure_servers(settings)
    # no read models: all the command API asks of Redis is the queue's (wake-ups, notices, limits)
    return create_app(settings, endpoints.database_url, endpoints.queue_url)


def query_app() -> FastAPI:
    from query_api.app import create_app  # noqa: PLC0415 - after PROMETHEUS_MULTIPROC_DIR

    settings = Settings()
    setup_logging("query-api", settings.log_level, settings.log_format)
    endpoints = ensure_servers(settings)
    return create_app(
        settings, endpoints.database_url, endpoints.redis_url, queue_url=endpoints.queue_url
    )


def _metrics_dir(settings: Settings, service: str, port: int) -> None:
    """A fresh folder for this run's multi-process metrics (stale files would be summed in), one
    per port: two instances of an API on one host (and data folder) each count their own."""
    folder = settings.data_dir.resolve() / "metrics" / f"{service}-{port}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def serve(app_factory: str, *, host: str, port: int, workers: int, log_level: str) -> None:
    settings = Settings()
    _metrics_dir(settings, app_factory.rsplit(":", 1)[-1], port)
    # the workers must find the same servers this process found (embedded ones included)
    endpoints = ensure_servers(settings)
    os.environ["DATABASE_URL"] = endpoints.database_url
    os.environ["REDIS_URL"] = endpoints.redis_url
    log.info("serving %s on http://%s:%d with %d worker(s)", app_factory, host, port, workers)
    run_server(app_factory, host=host, port=port, workers=workers, log_level=log_level)


def run_server(app_factory: str, *, host: str, port: int, workers: int, log_level: str) -> None:
    """Granian rather than uvicorn: measured here at 400 keep-alive connections, 2 workers, uvicorn
    left some connections waiting (p99 0.8-1 s, wrk timeouts) where granian answered them all
    (p99 80-90 ms) at 1.3x the requests/s. Its workers are processes, each building the app
    from the factory; a worker that dies is replaced. Proxy headers are not read: the client
    address is the peer's (X-Forwarded-For is trusted only from ORDERS_TRUSTED_PROXIES)."""
    Granian(
        app_factory,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=workers,
        websockets=False,
        backlog=2048,
        respawn_failed_workers=True,
        respawn_interval=0.5,
        log_level=LogLevels(_GRANIAN_LEVELS.get(log_level.upper(), "warning")),
        log_access=log_level.upper() == "DEBUG",  # skipped work when nobody reads it
        log_dictconfig=TO_ROOT,
        workers_kill_timeout=10,
    ).serve()


_GRANIAN_LEVELS = {
    "CRITICAL": "critical",
    "ERROR": "error",
    "WARNING": "warning",
    "INFO": "info",
    "DEBUG": "debug",
}

"""Running an API: uvicorn with the platform's settings, one or several worker processes.

Each worker builds its app from the environment (`factory=True`), so `orders up` passes the
servers' URLs down as DATABASE_URL / REDIS_URL and every worker connects to the same ones.
"""

from __future__ import annotations

import logging
import os
import shutil

import uvicorn
from fastapi import FastAPI

from orders.embedded import ensure_servers
from orders.logs import setup_logging
from orders.settings import Settings

log = logging.getLogger("orders.serve")


def command_app() -> FastAPI:
    from command_api.app import create_app  # noqa: PLC0415

    settings = Settings()
    setup_logging("command-api", settings.log_level)
    endpoints = ensure_servers(settings)
    return create_app(settings, endpoints.database_url, endpoints.redis_url)


def query_app() -> FastAPI:
    from query_api.app import create_app  # noqa: PLC0415

    settings = Settings()
    setup_logging("query-api", settings.log_level)
    endpoints = ensure_servers(settings)
    return create_app(settings, endpoints.database_url, endpoints.redis_url)


def _metrics_dir(settings: Settings, service: str) -> None:
    """A fresh folder for this run's multi-process metrics (stale files would be summed in)."""
    folder = settings.data_dir.resolve() / "metrics" / service
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def serve(app_factory: str, *, host: str, port: int, workers: int, log_level: str) -> None:
    settings = Settings()
    _metrics_dir(settings, app_factory.rsplit(":", 1)[-1])
    # the workers must find the same servers this process found (embedded ones included)
    endpoints = ensure_servers(settings)
    os.environ["DATABASE_URL"] = endpoints.database_url
    os.environ["REDIS_URL"] = endpoints.redis_url
    log.info("serving %s on http://%s:%d with %d worker(s)", app_factory, host, port, workers)
    uvicorn.run(
        app_factory,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # our handler, which redacts, formats every line
        proxy_headers=False,  # X-Forwarded-For is trusted only from ORDERS_TRUSTED_PROXIES
        server_header=False,
        log_level=log_level.lower(),
        access_log=log_level.upper() in {"DEBUG", "INFO"},  # skipped work when nobody reads it
        timeout_graceful_shutdown=10,
    )

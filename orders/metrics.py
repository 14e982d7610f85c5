"""Prometheus metrics for every service, and `/metrics`.

An API runs several worker processes; prometheus_client's multiprocess mode (files in
PROMETHEUS_MULTIPROC_DIR, set by `launch.serve` before the workers start) lets any worker answer
a scrape with the sum over all of them. Without that variable (tests, one process) the default
registry is used.

Requests are timed under their route template (`/products/{id_key}`), which the router leaves in
`scope["route"]`; a middleware that answers before routing (the query API's hot path) sets it
itself. The projection lag gauges are read from the database by the worker answering the scrape
(`refresh`), so across workers the most recent reading is the one reported.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from orders.web.watched import WatchedSend

REQUEST_SECONDS = Histogram(
    "orders_http_request_duration_seconds",
    "HTTP request latency by route and status.",
    ["service", "method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
APPENDS = Counter("orders_appends_total", "Appends to the event store by outcome.", ["outcome"])
COMMAND_RETRIES = Counter(
    "orders_command_retries_total", "Commands re-run after a version conflict."
)
IDEMPOTENT_REPLAYS = Counter(
    "orders_idempotent_replays_total", "Requests answered with a stored idempotent response."
)
# "mostrecent": another worker's older reading must not outlive this one ("max" would keep a
# lag that has since gone).
PROJECTION_LAG_EVENTS = Gauge(
    "orders_projection_lag_events", "Feed positions a projection is behind the feed head.",
    ["projection"], multiprocess_mode="mostrecent",
)  # fmt: skip
PROJECTION_LAG_SECONDS = Gauge(
    "orders_projection_lag_seconds", "Age of the oldest event a projection has not applied.",
    ["projection"], multiprocess_mode="mostrecent",
)  # fmt: skip
PROJECTION_FAILING = Gauge(
    "orders_projection_failing",
    "1 while a projection is stopped by an event it cannot apply (live or rebuild), else 0.",
    ["projection"], multiprocess_mode="mostrecent",
)  # fmt: skip
# A scrape answers (with the request metrics) even when the gauges cannot be read in time.
REFRESH_SECONDS = 2.0

log = logging.getLogger("orders.metrics")


def registry() -> CollectorRegistry:
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)  # type: ignore[no-untyped-call]
    return collected


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class MetricsMiddleware:
    """Times every request by its route template (not its raw path: ids would explode labels;
    so would invented methods, counted as OTHER)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app, self.service = app, service
        # the labelled histograms by (method, route, status): `labels()` costs four times what
        # `observe()` does, on every request of the hot path
        self._timers: dict[tuple[str, str, int], Histogram] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, watched = time.perf_counter(), WatchedSend(send)
        try:
            await self.app(scope, receive, watched)
        finally:
            self._timer(scope, watched.status).observe(time.perf_counter() - start)

    def _timer(self, scope: Scope, status: int) -> Histogram:
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        key = (method, getattr(scope.get("route"), "path", "unmatched"), status)
        timer = self._timers.get(key)
        if timer is None:
            timer = REQUEST_SECONDS.labels(self.service, method, key[1], str(status))
            self._timers[key] = timer
        return timer


Refresh = Callable[[], Awaitable[None]]


def add_metrics(app: FastAPI, service: str, refresh: Refresh | None = None) -> None:
    """`/metrics` and request timing; `refresh` updates gauges (projection lag) before a scrape."""
    app.add_middleware(MetricsMiddleware, service=service)

    async def metrics(_request: Request) -> Response:
        if refresh is not None:
            try:
                async with asyncio.timeout(REFRESH_SECONDS):
                    await refresh()
            except Exception as e:  # noqa: BLE001 - any failure: the gauges keep their last value
                log.warning("metrics: gauges not refreshed: %s: %s", type(e).__name__, e)
        return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)

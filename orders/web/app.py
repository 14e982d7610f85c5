"""`build_app`: a FastAPI app with the platform's cross-cutting HTTP behaviour, in one call.

Middleware, outermost first (all pure ASGI except Starlette's CORS, which is pure ASGI too):

    RequestContextMiddleware   request id (contextvar, request.state), X-Request-ID,
                               X-Response-Time on every response, even 429/413/500
    CORSMiddleware             CORS_ORIGINS; also on error responses, so browsers can read them
    InternalErrorMiddleware    an escaped exception -> 500 with an error id, logged once
    RateLimitMiddleware        per client address in Redis; fails open
    BodySizeLimitMiddleware    413 over 1 MiB of body, 431 over 32 KiB of headers
    (FastAPI's exception handlers: HTTPException, 422, the API's own error mapping)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from orders.settings import Settings
from orders.web.backends import Backends
from orders.web.bodylimit import MAX_BODY_BYTES, BodySizeLimitMiddleware
from orders.web.clientip import TrustedProxies
from orders.web.docs import add_docs
from orders.web.errors import (
    ErrorMapping,
    InternalErrorMiddleware,
    add_error_mapping,
    install_error_handlers,
)
from orders.web.health import ExtraCheck, add_health_route
from orders.web.ratelimit import RateLimiter, RateLimitMiddleware
from orders.web.request_id import RequestContextMiddleware

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Backends]]

# Headers the APIs set that browser code may read.
EXPOSED_HEADERS = [
    "X-Request-ID",
    "X-Response-Time",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "ETag",
    "Location",
    "X-Consistency-Token",
    "X-Read-Source",
]


def cors_origins(setting: str) -> list[str]:
    origins = [origin.strip() for origin in setting.split(",") if origin.strip()]
    return ["*"] if not origins or "*" in origins else origins


def _cors(settings: Settings) -> Middleware:
    origins = cors_origins(settings.cors_origins)
    return Middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=EXPOSED_HEADERS,
        # browsers refuse credentials with a wildcard origin; named origins may send them
        allow_credentials=origins != ["*"],
    )


def _backends_lifespan(lifespan: Lifespan | None, live: Backends) -> Callable[..., Any]:
    """The API's lifespan, with what it yields made visible to the shared layer."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        if lifespan is None:
            yield
            return
        async with lifespan(app) as given:
            live.db_pool, live.redis = given.db_pool, given.redis
            live.limits = given.redis if given.limits is None else given.limits
            try:
                yield
            finally:
                live.db_pool, live.redis, live.limits = None, None, None

    return run


def build_app(
    title: str,
    settings: Settings,
    *,
    lifespan: Lifespan | None = None,
    errors: ErrorMapping | None = None,
    health_checks: Sequence[ExtraCheck] = (),
    health_timeout: float = 2.0,
    reads_from_redis: bool = False,
    rate_limit_prefix: str = "orders:ratelimit:",
    max_body_bytes: int = MAX_BODY_BYTES,
    **fastapi_options: Any,
) -> FastAPI:
    """A FastAPI app with request ids, timing, CORS, the error shape, the rate limiter, the body
    limit, `/health_check`, and `/docs` and `/redoc` with their assets served locally.

    `lifespan(app)` is the API's own: it builds its pool and Redis client, yields them as
    `Backends`, and closes them afterwards. `errors` maps the API's exceptions to statuses (more
    can be added with `add_error_mapping`). Other keyword arguments go to `FastAPI(...)`.
    """
    live = Backends()
    proxies = TrustedProxies.parse(settings.trusted_proxies)
    middleware = [Middleware(RequestContextMiddleware), _cors(settings)]
    middleware.append(Middleware(InternalErrorMiddleware))
    if settings.rate_limit_enabled:
        limiter = RateLimiter(
            settings.rate_limit_calls, settings.rate_limit_period, prefix=rate_limit_prefix
        )
        middleware.append(
            Middleware(
                RateLimitMiddleware, limiter=limiter, redis=lambda: live.limits, proxies=proxies
            )
        )
    middleware.append(Middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes))
    # FastAPI's own OpenTelemetry layer looks for configured providers on every request (about
    # a twentieth of a write's CPU here); the platform's metrics are its Prometheus ones, so it is
    # on only for operators who send FastAPI's spans to a collector
    telemetry = dict.fromkeys(
        ("tracing", "metrics", "logs", "operation_spans"), settings.opentelemetry
    )
    app = FastAPI(
        title=title,
        lifespan=_backends_lifespan(lifespan, live),
        middleware=middleware,
        telemetry=telemetry,  # type: ignore[arg-type]  # a TelemetryConfig with these four keys
        docs_url=None,  # FastAPI's pages load from a CDN; add_docs serves the same, locally
        redoc_url=None,
        **fastapi_options,
    )
    add_docs(app)
    app.state.backends = live
    install_error_handlers(app)
    if errors:
        add_error_mapping(app, errors)
    add_health_route(
        app, live, health_checks, seconds=health_timeout, reads_from_redis=reads_from_redis
    )
    return app

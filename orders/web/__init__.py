"""The HTTP behaviour the command API and the query API share, written once.

    app.py         build_app(): one call wires everything below into a FastAPI app
    backends.py    Backends (the pool and Redis client an API's lifespan yields)
    request_id.py  X-Request-ID (echoed when sane, else a uuid4), X-Response-Time
    errors.py      the error shape, ERROR_RESPONSES for OpenAPI, add_error_mapping(), the 500s
    ratelimit.py   the Redis rate limiter (per client address, fails open)
    clientip.py    the client address, X-Forwarded-For trusted only from configured proxies
    bodylimit.py   413 for bodies over 1 MiB, 431 for headers over 32 KiB
    health.py      GET /health_check
    auth.py        the audit and admin bearer tokens: 401 / 403, 404 when a role is disabled
    docs.py        /docs and /redoc, with Swagger UI's and ReDoc's assets served locally

Exceptions raised here (both are Starlette HTTPExceptions, rendered in the error shape):

    ApiError            an HTTP-level refusal a route raises itself (401, 403, 412), with a code
    BodyTooLargeError   a streamed body crossed the limit (413)
"""

from orders.web.app import build_app, cors_origins
from orders.web.backends import Backends
from orders.web.bodylimit import MAX_BODY_BYTES, BodyTooLargeError
from orders.web.clientip import TrustedProxies, client_ip
from orders.web.errors import (
    ERROR_RESPONSES,
    ApiError,
    ErrorBody,
    ErrorMapping,
    ErrorRule,
    add_error_mapping,
    error_response,
    error_responses,
)
from orders.web.health import ExtraCheck, Level, read_health
from orders.web.ratelimit import RateLimiter
from orders.web.request_id import RequestId, current_request_id

__all__ = [
    "ERROR_RESPONSES",
    "MAX_BODY_BYTES",
    "ApiError",
    "Backends",
    "BodyTooLargeError",
    "ErrorBody",
    "ErrorMapping",
    "ErrorRule",
    "ExtraCheck",
    "Level",
    "RateLimiter",
    "RequestId",
    "TrustedProxies",
    "add_error_mapping",
    "build_app",
    "client_ip",
    "cors_origins",
    "current_request_id",
    "error_response",
    "error_responses",
    "read_health",
]

"""One error shape for every response that is not a success.

    {"detail": <human message>, "code": <machine code>, "request_id": <id>}

422 keeps FastAPI's field-error list under `detail` (code "validation_error"). A 500 carries
only an 8-character `error_id`; the log line with that id carries the details (redacted by the
log handler's filter), the client never sees internals. Each API maps its own exceptions to a
status once, with `add_error_mapping`; routes raise domain errors, never HTTP errors, for
business rules.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from orders.web.request_id import current_request_id
from orders.web.watched import WatchedSend

log = logging.getLogger("orders.web.errors")

# Codes for statuses that some layer (routing, the limiter, the body limit) produces itself.
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


def default_code(status: int) -> str:
    """The machine code of a status: `not_found`, `rate_limited`, ... ("im_a_teapot" style)."""
    if status in _CODES:
        return _CODES[status]
    try:
        return HTTPStatus(status).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


class ErrorBody(BaseModel):
    """The body of every error response (for the OpenAPI schema)."""

    detail: str | list[dict[str, Any]] = Field(
        description="A human message; for 422, FastAPI's list of field errors."
    )
    code: str = Field(description="A stable machine code, e.g. not_found, insufficient_stock.")
    request_id: str = Field(description="The request's X-Request-ID.")
    error_id: str | None = Field(
        default=None, description="500 only: the reference that the server's log line carries."
    )
    retry_after: int | None = Field(default=None, description="429 only: seconds to wait.")


_DESCRIPTIONS = {
    400: "A business rule refused the request (stock, price).",
    401: "Missing credentials.",
    403: "Wrong credentials.",
    404: "Not found.",
    409: "Conflict with the current state.",
    412: "If-Match did not match the current version.",
    413: "Request body over 1 MiB.",
    431: "Request headers over 32 KiB in all.",
    422: "Validation error: `detail` lists the fields.",
    429: "Rate limit exceeded; see Retry-After.",
    500: "Internal error: only an error id is returned.",
    503: "A backing service is unavailable; see Retry-After.",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text} for status, text in _DESCRIPTIONS.items()
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses=` entries for these statuses, e.g. `error_responses(404, 409)`."""
    return {status: ERROR_RESPONSES[status] for status in statuses}


class ErrorJSONResponse(JSONResponse):
    """A client's input echoed back in a 422 may be no valid JSON number: orjson turns a
    non-finite one (1e400) into null; an integer beyond 64 bits goes out as a string. Nor may
    it be valid text: a lone surrogate (`"\\ud800"` in the JSON sent) goes out escaped."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content, default=str)
        except TypeError:  # orjson refuses big integers (even with default=) and surrogates
            return orjson.dumps(_encodable(content), default=str)


def _encodable(value: Any) -> Any:
    if isinstance(value, dict):
        return {_encodable(k): _encodable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(v) for v in value]
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def error_response(
    status: int,
    detail: Any,
    code: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """An error in the platform's shape, with the current request id."""
    body = {
        "detail": detail,
        "code": code or default_code(status),
        "request_id": current_request_id(),
        **extra,
    }
    return ErrorJSONResponse(body, status_code=status, headers=dict(headers or {}))


def internal_error_response(error_id: str) -> JSONResponse:
    return error_response(
        500, f"Internal error; reference {error_id}", "internal_error", error_id=error_id
    )


@dataclass(frozen=True, slots=True)
class ErrorRule:
    """How one exception type becomes a response.

    `code` None: the exception's own string `code` attribute (domain errors carry one, e.g.
    "insufficient_stock"), else the status's default code. `detail` None: `str(exc)`; a string:
    that fixed message (for errors whose text should not reach clients); a callable: its result.
    """

    status: int
    code: str | None = None
    detail: str | Callable[[Exception], Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def render(self, exc: Exception) -> JSONResponse:
        own_code = getattr(exc, "code", None)
        code = self.code or (own_code if isinstance(own_code, str) else None)
        if self.detail is None:
            detail: Any = str(exc)
        elif isinstance(self.detail, str):
            detail = self.detail
        else:
            detail = self.detail(exc)
        return error_response(self.status, detail, code, headers=self.headers)


ErrorMapping = Mapping[type[Exception], ErrorRule | int | tuple[int, str]]


def _as_rule(rule: ErrorRule | int | tuple[int, str]) -> ErrorRule:
    if isinstance(rule, ErrorRule):
        return rule
    if isinstance(rule, int):
        return ErrorRule(rule)
    return ErrorRule(rule[0], rule[1])


def add_error_mapping(app: FastAPI, mapping: ErrorMapping) -> None:
    """Register `{ExceptionType: status | (status, code) | ErrorRule}` on the app.

    Subclasses follow their nearest mapped ancestor (Starlette looks handlers up by MRO).
    Call it before the app starts serving.
    """
    for exc_type, rule in mapping.items():
        if exc_type in (Exception, BaseException):
            raise ValueError("unhandled exceptions are the 500 handler's; map specific types")
        app.add_exception_handler(exc_type, _mapped_handler(_as_rule(rule)))


def _mapped_handler(rule: ErrorRule) -> Callable[[Request, Exception], Any]:
    async def handle(request: Request, exc: Exception) -> Response:
        return answer(rule, exc, request.method, request.url.path)

    return handle


def answer(rule: ErrorRule, exc: Exception, method: str, path: str) -> JSONResponse:
    """The response of a mapped exception (what the app's handler for it answers)."""
    if rule.status >= 500:  # noqa: PLR2004 - server-side statuses deserve a line in the log
        log.warning("%s %s -> %d: %s: %s", method, path, rule.status, type(exc).__name__, exc)
    return rule.render(exc)


def rule_for(mapping: ErrorMapping, exc: Exception) -> ErrorRule | None:
    """The rule a mapping holds for an exception: its type's, or its nearest mapped ancestor's
    (as Starlette finds handlers), None when unmapped."""
    for cls in type(exc).__mro__:
        if cls in mapping:
            return _as_rule(mapping[cls])
    return None


async def _on_http_exception(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in {204, 304}:  # no body allowed
        return Response(status_code=exc.status_code, headers=exc.headers)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):  # noqa: PLR2004
        return _not_utf8()
    code = getattr(exc, "code", None)
    return error_response(
        exc.status_code,
        exc.detail,
        code if isinstance(code, str) else None,
        headers=exc.headers,
    )


def _not_utf8() -> Response:
    """FastAPI answers a JSON body that is not UTF-8 with a bare 400 (any other malformed JSON is
    its 422): JSON is UTF-8 (RFC 8259), so this is malformed JSON too, and gets the same 422."""
    error = {"type": "json_invalid", "loc": ["body"], "msg": "JSON decode error",
             "ctx": {"error": "the body is not UTF-8"}}  # fmt: skip
    return error_response(422, [error], "validation_error")


def _lossy_text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


async def _on_validation_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # bytes inputs (a body that is not UTF-8) would make the default encoder raise: a 500
    errors = jsonable_encoder(exc.errors(), custom_encoder={bytes: _lossy_text})
    return error_response(422, errors, "validation_error")


class ApiError(HTTPException):
    """An HTTP-level refusal a route or dependency raises itself (401, 403, 412, ...), with a
    machine code. Business rules raise domain errors instead."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status_code, detail, dict(headers) if headers else None)
        self.code = code or default_code(status_code)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_exception_handler(RequestValidationError, _on_validation_error)


def new_error_id() -> str:
    return uuid.uuid4().hex[:8]


class InternalErrorMiddleware:
    """Pure ASGI: any exception that escapes the routes becomes a 500 carrying only an error id,
    logged (with the id, the request line and the traceback) once, here.

    It sits inside the request-id and CORS middleware so the 500 still carries X-Request-ID,
    X-Response-Time and the CORS headers a browser needs to read it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        watched = WatchedSend(send)
        try:
            await self.app(scope, receive, watched)
        except Exception as exc:
            error_id = new_error_id()
            log.exception(  # the message repeats the exception so one-line log readers see it
                "internal error %s on %s %s: %s: %s",
                error_id,
                scope["method"],
                scope["path"],
                type(exc).__name__,
                exc,  # noqa: TRY401
            )
            if watched.started:  # too late for a 500: let the server abort the connection
                raise
            await internal_error_response(error_id)(scope, receive, send)

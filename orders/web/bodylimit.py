"""Request bodies over a limit (1 MiB) are refused with 413, without holding them in memory;
request headers over theirs (32 KiB in all) with 431.

A declared `Content-Length` over the limit is refused before the route runs. A body streamed
without one is counted chunk by chunk as the route reads it; the chunk that crosses the limit
raises `BodyTooLargeError`, an HTTPException, so FastAPI's body parsing lets it through to the
error handlers (any other exception from `receive` it would turn into a 400).

uvicorn's default HTTP parser (httptools) sets no limit on headers at all: an 8 MiB header, or
thousands of them, reach the app. Proxies refuse far less (nginx: 8 KiB a line), so the header
limit here only makes the app refuse, consistently, what a proxy in front would.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orders.web.errors import error_response
from orders.web.watched import WatchedSend

MAX_BODY_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 32 * 1024


class BodyTooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body too large: the limit is {limit} bytes.")
        self.code = "payload_too_large"


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length header, -1 when it is not a number, None when absent."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


def _header_bytes(scope: Scope) -> int:
    """The size of the header lines as sent (`name: value\r\n` each)."""
    return sum(len(name) + len(value) + 4 for name, value in scope["headers"])


class BodySizeLimitMiddleware:
    """Pure ASGI: 413 in the platform's error shape for bodies over `max_bytes`, 431 for headers
    over MAX_HEADER_BYTES."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _header_bytes(scope) > MAX_HEADER_BYTES:
            detail = f"Request headers too large: the limit is {MAX_HEADER_BYTES} bytes."
            await error_response(431, detail)(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and (declared < 0 or declared > self.max_bytes):
            response = (
                error_response(400, "Invalid Content-Length header.")
                if declared < 0
                else error_response(413, BodyTooLargeError(self.max_bytes).detail)
            )
            await response(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        watched = WatchedSend(send)

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLargeError(self.max_bytes)
            return message

        try:
            await self.app(scope, counting_receive, watched)
        except BodyTooLargeError as exc:
            # a route that reads the body outside FastAPI's parsing lets the error reach us
            if watched.started:
                raise
            await error_response(413, exc.detail)(scope, receive, send)

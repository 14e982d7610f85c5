"""Every request gets an id and every response says how long it took.

The id is the client's `X-Request-ID` when it is a sane token (at most 128 characters of
`A-Z a-z 0-9 . _ : -`), otherwise a fresh uuid4: an odd or over-long value is replaced, never
refused. Handlers read it from `request.state.request_id`, the `RequestId` dependency or
`current_request_id()`; log records get it through `orders.logs.REQUEST_ID`.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Annotated

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orders.logs import REQUEST_ID

_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
_HEADER = b"x-request-id"


def current_request_id() -> str:
    """The id of the request the calling task serves ("-" outside a request)."""
    return REQUEST_ID.get()


def accept_request_id(raw: bytes | None) -> str:
    """The client's id when it is sane, else a new uuid4."""
    if raw is not None and _SANE_ID.fullmatch(raw):
        return raw.decode("ascii")
    return str(uuid.uuid4())


def _incoming_id(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == _HEADER:
            return bytes(value)
    return None


class RequestContextMiddleware:
    """Pure ASGI: sets the request id for the request's task and adds `X-Request-ID` and
    `X-Response-Time` (time to the first response byte) to every response that passes it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = accept_request_id(_incoming_id(scope))
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed_ms = (time.perf_counter() - started) * 1000
                # a new list: a response object may hand the same header list to many requests
                message["headers"] = [
                    *message.get("headers", ()),
                    id_header,
                    (b"x-response-time", f"{elapsed_ms:.2f}ms".encode("ascii")),
                ]
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            REQUEST_ID.reset(token)


def _request_id(request: Request) -> str:
    return str(request.state.request_id)


# A route parameter `request_id: RequestId` receives the current request's id.
RequestId = Annotated[str, Depends(_request_id)]

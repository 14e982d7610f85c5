"""The hot path: every entity's POST, PUT and DELETE run without FastAPI's per-request machinery.

Routing a write through some forty routes, solving its dependencies and validating it the
generic way cost about as much CPU as the command itself. So a plain write is recognised here,
before routing: its path and id checked as the route's `Path` would, its JSON body validated
with the route's own body model, and then handed to the route's own endpoint function. A refusal
is answered by the app's own error mapping. Anything this does not recognise exactly goes on to
the FastAPI routes, which validate it, answer it, and are what OpenAPI describes: a body that is
not a JSON object of valid fields (FastAPI writes the 422), another content type, a header sent
twice, an id out of range, a trailing slash. So a write is either answered here exactly as its
route would answer it, or by the route itself (a test holds the two to the same bytes).

It sits innermost, after the shared layer: request ids, CORS, the rate limit, the body limit
and the error shape apply as to every route, and `scope["route"]` names the route it stands for,
so the metrics time it under that route's template.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.bodies import ID_MAX
from domain.catalogue import BY_NAME
from orders.web import ErrorMapping
from orders.web.errors import answer, rule_for

Endpoint = Callable[..., Awaitable[Response]]
_HEADERS = {b"content-type", b"idempotency-key", b"if-match"}


@dataclass(frozen=True, slots=True)
class HotRoute:
    route: APIRoute  # what the router would have put in `scope["route"]`
    endpoint: Endpoint  # the route's own function
    body: type[BaseModel] | None  # its body model (DELETE has none)


# (method, entity name, whether the path names an id) -> the route serving it
HotRoutes = Mapping[tuple[str, str, bool], HotRoute]


def hot_routes(routes: list[Any]) -> HotRoutes:
    """The API's write routes by (method, entity, with id), from the routes themselves."""
    found = {}
    for route in routes:
        if not isinstance(route, APIRoute) or route.path.endswith("/"):
            continue
        name, _, rest = route.path.strip("/").partition("/")
        if name not in BY_NAME:  # an entity's writes only (not /admin/...)
            continue
        body = None if route.body_field is None else route.body_field.field_info.annotation
        model = body if isinstance(body, type) and issubclass(body, BaseModel) else None
        for method in (route.methods or set()) & {"POST", "PUT", "DELETE"}:
            found[(method, name, bool(rest))] = HotRoute(route, route.endpoint, model)
    return found


@dataclass
class HotPathStats:
    answered: int = 0  # writes answered here (the others went on to the routes)


class CommandHotPath:
    def __init__(
        self, app: ASGIApp, routes: HotRoutes, errors: ErrorMapping, stats: HotPathStats
    ) -> None:
        self.app = app
        self.routes = routes
        self.errors = errors
        self.stats = stats

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        target = self._target(scope) if scope["type"] == "http" else None
        headers = _headers(scope) if target is not None else None
        if target is None or headers is None:
            await self.app(scope, receive, send)
            return
        body, replay = await _buffered(receive)
        response = await self._answer(scope, replay, target, headers, body)
        if response is None:
            await self.app(scope, replay, send)
        else:
            self.stats.answered += 1
            await response(scope, replay, send)

    def _target(self, scope: Scope) -> tuple[HotRoute, int | None] | None:
        name, _, id_text = scope["path"].removeprefix("/").partition("/")
        hot = self.routes.get((scope["method"], name, bool(id_text)))
        if hot is None or not id_text:
            return None if hot is None else (hot, None)
        id_key = _number(id_text)
        return None if id_key is None else (hot, id_key)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        target: tuple[HotRoute, int | None],
        headers: dict[bytes, str],
        raw: bytes,
    ) -> Response | None:
        hot, id_key = target
        arguments: dict[str, Any] = {"idempotency_key": headers.get(b"idempotency-key")}
        if id_key is not None:
            arguments |= {"id_key": id_key, "if_match": headers.get(b"if-match")}
        if hot.body is not None:
            body = _body(hot.body, headers.get(b"content-type"), raw)
            if body is None:
                return None
            arguments["body"] = body
        scope["route"] = hot.route
        try:
            return await hot.endpoint(request=Request(scope, receive), **arguments)
        except Exception as e:
            rule = rule_for(self.errors, e)
            if rule is None:
                raise
            return answer(rule, e, scope["method"], scope["path"])


def _number(text: str) -> int | None:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:  # noqa: PLR2004
        return None
    value = int(text)
    return value if 1 <= value <= ID_MAX else None


def _headers(scope: Scope) -> dict[bytes, str] | None:
    """The headers the write routes read, each sent at most once (else None: the routes')."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        if name in _HEADERS:
            if name in found:
                return None
            found[name] = value.decode("latin-1")
    return found


def _body(model: type[BaseModel], content_type: str | None, raw: bytes) -> BaseModel | None:
    """The body as the route's model, when it is plain JSON of valid fields (else None)."""
    if content_type is None or content_type.split(";")[0].strip().lower() != "application/json":
        return None
    try:
        data = orjson.loads(raw)  # stricter than the routes' parser: what it refuses, they get
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole body, and a `receive` that hands it on once, then waits as the first did."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"", _replaying([message], receive)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    return body, _replaying([{"type": "http.request", "body": body, "more_body": False}], receive)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return replay

"""The hot path: plain `GET /{resource}` and `GET /{resource}/{id}` served without FastAPI's router.

Matching ~20 routes and validating their parameters cost more CPU than the Redis read itself,
so the two reads every client makes are recognised here, before routing, and answered with the
same functions as the routes (`responses.py`). Anything this does not recognise exactly, it leaves
to the FastAPI routes, which validate it, answer it, and are what OpenAPI describes: a query
parameter that is not a plain number or a list filter, an out-of-range value, a consistency token,
`?as_of=`, any other method or path. So a request is either answered here exactly as the route
would answer it, or by the route itself (tests hold the two to the same bytes).

It sits innermost, after the shared layer: request ids, CORS, the rate limiter and the error shape
apply to it as to every route. A request it answers carries, as a routed one does, the route it
stands for in `scope["route"]`: the metrics outside time it under that route's template.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.datastructures import State
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from query_api.errors import UNAVAILABLE, ReadModelsUnavailableError
from query_api.readmodels import ReadModels
from query_api.reads import Page
from query_api.resources import BY_NAME, ID_MAX, LIMIT_MAX, RESOURCES, SKIP_MAX, Resource
from query_api.responses import document_response, page_response

log = logging.getLogger("query_api.hotpath")

_LEFT_TO_ROUTES = (b"x-consistency-token",)  # a token may wait and answer 422 / 503

# resource name -> (the route of its list, the route of one of it)
HotRoutes = Mapping[str, tuple[BaseRoute, BaseRoute]]


def hot_routes(routes: Sequence[BaseRoute]) -> HotRoutes:
    """The FastAPI routes of the reads answered here, among the read routers' routes (what the
    router leaves in `scope["route"]` for them)."""
    by_path = {r.path: r for r in routes if isinstance(r, APIRoute) and "GET" in (r.methods or ())}
    return {r.name: (by_path[r.path], by_path[f"{r.path}/{{id_key}}"]) for r in RESOURCES}


def _number(text: str, low: int, high: int) -> int | None:
    if not (text.isascii() and text.isdigit()) or len(text) > 18:  # noqa: PLR2004
        return None
    value = int(text)
    return value if low <= value <= high else None


def _query(raw: bytes) -> dict[str, str] | None:
    """Plain `a=1&b=2` (no escapes, no repeats), or None."""
    if not raw:
        return {}
    if b"%" in raw or b"+" in raw:
        return None
    pairs = [item.partition("=") for item in raw.decode("ascii", "replace").split("&") if item]
    query = {name: value for name, _, value in pairs}
    return query if len(query) == len(pairs) else None


def _page(resource: Resource, raw: bytes) -> Page | None:
    query = _query(raw)
    if query is None:
        return None
    skip = _number(query.pop("skip", "0"), 0, SKIP_MAX)
    limit = _number(query.pop("limit", "100"), 1, LIMIT_MAX)
    if skip is None or limit is None:
        return None
    try:
        filters = resource.filters.model_validate(query)
    except ValidationError:
        return None
    return Page(resource.table, skip, limit, filters.fields())


def _target(path: str) -> tuple[Resource, int | None] | None:
    _, _, rest = path.partition("/")
    name, _, id_text = rest.partition("/")
    resource = BY_NAME.get(name)
    if resource is None or "/" in id_text:
        return None
    if not id_text:
        return resource, None
    id_key = _number(id_text, 1, ID_MAX)
    return None if id_key is None else (resource, id_key)


class HotPathMiddleware:
    def __init__(self, app: ASGIApp, state: State, routes: HotRoutes) -> None:
        self.app = app
        self.state = state  # the app's state: `reads` is set by the lifespan
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = None
        if scope["type"] == "http" and scope["method"] == "GET":
            response = await self._answer(scope)
        if response is None:
            await self.app(scope, receive, send)
        else:
            await response(scope, receive, send)

    async def _answer(self, scope: Scope) -> Response | None:
        target = _target(scope["path"])
        if target is None:
            return None
        if_none_match = None
        for name, value in scope["headers"]:
            if name in _LEFT_TO_ROUTES:
                return None
            if name == b"if-none-match" and if_none_match is None:  # the first, as the route
                if_none_match = value.decode("latin-1")
        resource, id_key = target
        reads: ReadModels = self.state.reads
        try:
            response = await self._read(
                reads, resource, id_key, scope["query_string"], if_none_match
            )
        except ReadModelsUnavailableError as e:
            log.warning("GET %s -> 503: %s", scope["path"], e)
            response = UNAVAILABLE.render(e)
        if response is not None:  # what the router would have set: a dict lookup, no matching
            scope["route"] = self.routes[resource.name][id_key is not None]
        return response

    async def _read(
        self,
        reads: ReadModels,
        resource: Resource,
        id_key: int | None,
        query: bytes,
        if_none_match: str | None,
    ) -> Response | None:
        if id_key is None:
            page = _page(resource, query)
            return None if page is None else page_response(await reads.page(page))
        if query:  # ?as_of= and the like: the route's
            return None
        return document_response(
            resource, id_key, await reads.one(resource.table, id_key), if_none_match
        )

"""Collection and document paths answer with and without a trailing slash, without a redirect:
the slash is dropped before routing, so each path is one route (half as many to match).

The inner app gets a copy of the scope (ASGI's rule for a changed scope); the route it matched
is copied back, for the metrics outside, which time a request under its route's template."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class TrailingSlashMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/"):
            raw = scope.get("raw_path")
            inner = {
                **scope,
                "path": path[:-1],
                "raw_path": raw[:-1] if raw and raw.endswith(b"/") else raw,
            }
            try:
                await self.app(inner, receive, send)
            finally:
                if "route" in inner:
                    scope["route"] = inner["route"]
            return
        await self.app(scope, receive, send)

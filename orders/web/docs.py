"""The APIs' documentation pages, `/docs` (Swagger UI) and `/redoc`, with every file they load
served by the API itself: FastAPI's default pages load their JavaScript and CSS from a CDN,
which a firewalled or air-gapped deployment cannot reach, and then show a blank page.

This is FastAPI's documented self-hosting recipe (its own page builders, the default pages
turned off) with the assets of `fastapi-offline`: Swagger UI's bundle and CSS, ReDoc's
standalone bundle and a favicon, the files FastAPI's pages would fetch from the CDN, kept
current by that package. Only its static folder is used, mounted under ASSETS.

ReDoc's side menu shows Redocly's logo from Redocly's CDN (it hides it when it fails to load).
The pages carry a Content-Security-Policy that keeps the browser on this origin, so that
logo, and anything a future bundle might reach for, is never fetched from elsewhere.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS = "/docs"
REDOC = "/redoc"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
ASSETS = "/docs/assets"

# The pages' own inline script (Swagger UI's set-up) and the bundles' inline styles need
# 'unsafe-inline'; ReDoc runs its search in a worker made from a blob.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'self'"
)


def _page(response: HTMLResponse) -> HTMLResponse:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def add_docs(app: FastAPI) -> None:
    """Serve /docs, its OAuth2 redirect page and /redoc, and their assets under ASSETS. The
    app must be built with `docs_url=None, redoc_url=None` (FastAPI's CDN pages off)."""
    app.mount(ASSETS, StaticFiles(packages=[("fastapi_offline", "static")]), name="docs-assets")
    # no badge that asks validator.swagger.io about the spec
    swagger_parameters = {**(app.swagger_ui_parameters or {}), "validatorUrl": None}

    def under_root(request: Request) -> tuple[str, str, str]:
        """The spec, the assets' folder and the redirect page, under the app's root path."""
        base = str(request.scope.get("root_path", "")).rstrip("/")
        return f"{base}{app.openapi_url}", f"{base}{ASSETS}", f"{base}{OAUTH2_REDIRECT}"

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        spec, assets, redirect = under_root(request)
        return _page(get_swagger_ui_html(
            openapi_url=spec, title=f"{app.title} - Swagger UI", oauth2_redirect_url=redirect,
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon.png", swagger_ui_parameters=swagger_parameters,
        ))  # fmt: skip

    @app.get(OAUTH2_REDIRECT, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return _page(get_swagger_ui_oauth2_redirect_html())

    @app.get(REDOC, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        spec, assets, _ = under_root(request)
        return _page(get_redoc_html(
            openapi_url=spec, title=f"{app.title} - ReDoc",
            redoc_js_url=f"{assets}/redoc.standalone.js", redoc_favicon_url=f"{assets}/favicon.png",
            with_google_fonts=False,
        ))  # fmt: skip

"""/docs and /redoc of both APIs load nothing from another origin: every file the pages name is
served by the API itself, and the pages' Content-Security-Policy keeps the browser on this
origin (the bundles hold URLs as text, links and schema ids, that a page never fetches; the
policy is what makes that a guarantee rather than a reading of minified code)."""

from __future__ import annotations

import re

import httpx
import pytest

pytestmark = pytest.mark.integration

# what a page makes the browser load: <script src>, <link href>, Swagger UI's `url:`, ReDoc's
# spec-url
REFERENCE = re.compile(r"""(?:\bsrc|\bhref|\bspec-url)\s*=\s*["']([^"']+)|\burl:\s*'([^']+)'""")
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)""")
EXTERNAL = re.compile(r"(?i)^(?:[a-z][a-z0-9+.-]*:)?//")


@pytest.fixture(params=["command_api", "query_api"])
def api(request: pytest.FixtureRequest) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.getfixturevalue(request.param)
    return client


async def loaded(api: httpx.AsyncClient, page: str) -> dict[str, httpx.Response]:
    """The page and everything it names, fetched from the API."""
    response = await api.get(page)
    assert response.status_code == 200, response.text
    assert "text/html" in response.headers["content-type"]
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert not re.search(r"https?:", policy), policy
    html = response.text
    assert not re.search(r"(?i)https?://", html), html
    references = [a or b for a, b in REFERENCE.findall(html)]
    assert references, html
    fetched = {page: response}
    for reference in references:
        assert not EXTERNAL.match(reference), reference
        assert reference.startswith("/"), reference
        asset = await api.get(reference)
        assert asset.status_code == 200, (reference, asset.status_code)
        fetched[reference] = asset
    return fetched


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_a_docs_page_loads_only_files_the_api_serves(
    api: httpx.AsyncClient, page: str
) -> None:
    responses = await loaded(api, page)
    scripts = [r for path, r in responses.items() if path.endswith(".js")]
    assert scripts, list(responses)
    for script in scripts:  # the real bundles, not an error page
        assert "javascript" in script.headers["content-type"]
        assert len(script.content) > 500_000
    assert any(path.endswith(".png") for path in responses)  # the favicon, local too
    for path, response in responses.items():
        if path.endswith(".css"):
            for url in CSS_URL.findall(response.text):
                assert url.startswith("data:") or not EXTERNAL.match(url), url
    spec = next(r for path, r in responses.items() if path.endswith("openapi.json"))
    assert spec.json()["openapi"].startswith("3.")


async def test_swagger_ui_oauth2_redirect_page_is_served_locally(api: httpx.AsyncClient) -> None:
    response = await api.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert not re.search(r"(?i)(?:src|href)\s*=\s*[\"'](?:https?:)?//", response.text)


async def test_the_openapi_document_lists_no_docs_page_or_asset(api: httpx.AsyncClient) -> None:
    paths = (await api.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith(("/docs", "/redoc"))]

"""CORS from CORS_ORIGINS: a wildcard by default, named origins when configured."""

from __future__ import annotations

import pytest

from orders.embedded import Endpoints
from orders.web import cors_origins
from tests.integration.web_demo import demo_app, demo_settings, serving

pytestmark = pytest.mark.integration

PREFLIGHT = {
    "Origin": "https://shop.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type, x-request-id",
}


async def test_a_preflight_is_allowed_from_anywhere_by_default(servers: Endpoints) -> None:
    async with serving(demo_app(demo_settings(), redis_url=servers.redis_url)) as http:
        response = await http.options("/items", headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "x-request-id" in response.headers["access-control-allow-headers"].lower()
    assert "x-request-id" in response.headers  # even CORS's own answers carry an id


async def test_configured_origins_are_the_only_ones_allowed(servers: Endpoints) -> None:
    settings = demo_settings(CORS_ORIGINS="https://shop.example, https://admin.example")
    async with serving(demo_app(settings, redis_url=servers.redis_url)) as http:
        allowed = await http.options("/items", headers=PREFLIGHT)
        refused = await http.options("/items", headers={**PREFLIGHT, "Origin": "https://evil"})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


async def test_browsers_can_read_the_platform_headers_and_errors(servers: Endpoints) -> None:
    origin = {"Origin": "https://shop.example"}
    async with serving(demo_app(demo_settings(), redis_url=servers.redis_url)) as http:
        ok = await http.get("/things/1", headers=origin)
        failed = await http.get("/boom", headers=origin)
    exposed = ok.headers["access-control-expose-headers"].lower()
    for header in ("x-request-id", "x-response-time", "x-ratelimit-remaining", "retry-after"):
        assert header in exposed
    assert failed.status_code == 500
    assert failed.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("*", ["*"]),
        ("", ["*"]),
        ("https://a.example,https://b.example", ["https://a.example", "https://b.example"]),
        (" https://a.example , ", ["https://a.example"]),
        ("https://a.example,*", ["*"]),
    ],
)
def test_cors_origins_are_read_from_a_comma_separated_setting(
    setting: str, expected: list[str]
) -> None:
    assert cors_origins(setting) == expected

"""The query API as a service: the health check with the projections' lag, and the OpenAPI
document (every response and error described)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.query_world import RESOURCES
from tests.query import Projected
from tests.shop import Shop

pytestmark = pytest.mark.integration


async def test_the_health_check_reports_each_projections_lag(
    shop: Shop, projected: Projected, query_api: httpx.AsyncClient
) -> None:
    await shop.category()
    head = await projected.catch_up()
    caught_up = (await query_api.get("/health_check")).json()
    await shop.product()  # events the projections have not applied
    await projected.store.sequence()
    behind = await query_api.get("/health_check/")
    assert behind.status_code == 200
    report = caught_up["checks"]["projections"]
    assert report["feed_head"] == head
    assert set(report["lag"]) == {"categories", "products", "clients", "bills", "orders",
                                  "reviews"}  # fmt: skip
    assert report["lag"]["products"] == {
        "health": "healthy", "generation": 1, "position": head, "redis_position": head,
        "events_behind": 0, "seconds_behind": 0.0,
    }  # fmt: skip
    new_head = behind.json()["checks"]["projections"]["feed_head"]
    lag = behind.json()["checks"]["projections"]["lag"]["products"]
    assert new_head > head
    assert (lag["position"], lag["events_behind"]) == (head, new_head - head)
    assert lag["seconds_behind"] > 0


def _schema_of(operation: dict[str, Any], status: str) -> dict[str, Any]:
    schema: dict[str, Any] = operation["responses"][status]["content"]["application/json"]["schema"]
    return schema


async def test_every_read_and_its_errors_are_in_the_openapi_document(
    query_api: httpx.AsyncClient,
) -> None:
    spec = (await query_api.get("/openapi.json")).json()
    paths = spec["paths"]
    for resource in RESOURCES:
        listing, one = paths[f"/{resource}"]["get"], paths[f"/{resource}/{{id_key}}"]["get"]
        assert _schema_of(listing, "200")["type"] == "array"
        assert _schema_of(listing, "200")["items"]["$ref"].endswith("Document")
        assert _schema_of(one, "200")["$ref"].endswith("Document")
        for status in ("404", "422", "429", "500", "503"):
            assert _schema_of(one, status)["$ref"].endswith("ErrorBody"), (resource, status)
            assert _schema_of(listing, status)["$ref"].endswith("ErrorBody")
        assert "304" in one["responses"]
        assert "etag" in {h.lower() for h in one["responses"]["200"]["headers"]}
        names = {p["name"] for p in listing["parameters"]}
        assert {"skip", "limit", "X-Consistency-Token"} <= names
        assert {"as_of", "If-None-Match", "X-Consistency-Token"} <= {
            p["name"] for p in one["parameters"]
        }
        history = paths[f"/{resource}/{{id_key}}/history"]["get"]
        assert history["security"] == [{"AuditToken": []}]
        assert {"401", "403", "404"} <= set(history["responses"])
        assert f"/{resource}/" not in paths  # the trailing-slash twins are not listed twice
    assert {"category_id", "include_inactive"} <= {
        p["name"] for p in paths["/products"]["get"]["parameters"]
    }
    assert {"client_id", "status"} <= {p["name"] for p in paths["/orders"]["get"]["parameters"]}
    for audit in ("/events", "/audit/verify"):
        assert paths[audit]["get"]["security"] == [{"AuditToken": []}]
    assert "/health_check" in paths
    for page in ("/docs", "/redoc"):
        response = await query_api.get(page)
        assert response.status_code == 200
        assert "text/html" in response.headers["content-type"]

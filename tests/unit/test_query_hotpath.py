"""Which requests the query API's hot path answers itself, and which it leaves to the routes."""

from __future__ import annotations

import pytest

from query_api.hotpath import _page, _target
from query_api.resources import BY_NAME


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/products", ("products", None)),
        ("/order_details/12", ("order_details", 12)),
        ("/reviews/007", ("reviews", 7)),
        ("/products/0", None),
        ("/products/9007199254740993", None),  # beyond 2**53: the route's 422
        ("/products/-1", None),
        ("/products/1/history", None),
        ("/products/abc", None),
        ("/products/\u0661", None),  # a digit, but not an ASCII one
        ("/events", None),
        ("/", None),
        ("/health_check", None),
    ],
)
def test_the_hot_path_takes_only_plain_resource_paths(
    path: str, expected: tuple[str, int | None] | None
) -> None:
    target = _target(path)
    assert (None if target is None else (target[0].name, target[1])) == expected


@pytest.mark.parametrize(
    ("resource", "query", "expected"),
    [
        ("categories", b"", (0, 100, {})),
        ("categories", b"skip=5&limit=1000", (5, 1000, {})),
        ("categories", b"unknown=1", (0, 100, {})),  # ignored, as the route ignores it
        ("products", b"", (0, 100, {"active": True})),
        ("products", b"include_inactive=true&category_id=3", (0, 100, {"category_id": 3})),
        ("orders", b"status=2&client_id=4", (0, 100, {"status": 2, "client_id": 4})),
        ("categories", b"limit=0", None),
        ("categories", b"limit=1001", None),
        ("categories", b"skip=-1", None),
        ("categories", b"skip=1&skip=2", None),
        ("categories", b"skip=%31", None),
        ("orders", b"status=9", None),
        ("reviews", b"product_id=abc", None),
    ],
)
def test_the_hot_path_leaves_anything_unusual_to_the_routes(
    resource: str, query: bytes, expected: tuple[int, int, dict[str, object]] | None
) -> None:
    page = _page(BY_NAME[resource], query)
    assert (None if page is None else (page.skip, page.limit, dict(page.filters))) == expected

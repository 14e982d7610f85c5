"""The shared HTTP layer's error shape, request ids and timing, through a demo app."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from orders.embedded import Endpoints
from tests.integration.web_demo import (
    SECRET_FAILURE,
    captured_logs,
    demo_app,
    demo_settings,
    serving,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def http(servers: Endpoints) -> AsyncIterator[httpx.AsyncClient]:
    app = demo_app(demo_settings(), redis_url=servers.redis_url)
    async with serving(app) as client:
        yield client


def is_uuid4(value: str) -> bool:
    try:
        return uuid.UUID(value).version == 4
    except ValueError:
        return False


async def test_a_request_without_an_id_gets_a_new_uuid4(http: httpx.AsyncClient) -> None:
    response = await http.get("/things/1")
    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert is_uuid4(request_id)
    assert response.json() == {"id": 1, "request_id": request_id, "state": request_id}


async def test_a_sane_client_request_id_is_echoed_and_reaches_the_route(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/things/1", headers={"X-Request-ID": "trace-42.a_b:c"})
    assert response.headers["x-request-id"] == "trace-42.a_b:c"
    assert response.json()["request_id"] == "trace-42.a_b:c"


@pytest.mark.parametrize(
    "odd",
    [
        b"x" * 129,
        b"has spaces in it",
        b"ctrl\x01char",
        b"tab\there",
        "caf\u00e9".encode("latin-1"),
        b"<script>alert(1)</script>",
        b"",
    ],
    ids=["over-long", "spaces", "control", "tab", "latin-1", "markup", "empty"],
)
async def test_an_odd_request_id_is_replaced_never_refused(
    http: httpx.AsyncClient, odd: bytes
) -> None:
    response = await http.get("/things/1", headers=[(b"X-Request-ID", odd)])
    assert response.status_code == 200
    assert is_uuid4(response.headers["x-request-id"])


async def test_a_request_id_of_128_characters_is_kept(http: httpx.AsyncClient) -> None:
    response = await http.get("/things/1", headers={"X-Request-ID": "a" * 128})
    assert response.headers["x-request-id"] == "a" * 128


async def test_every_response_says_how_long_it_took(http: httpx.AsyncClient) -> None:
    for response in [
        await http.get("/things/1"),
        await http.get("/things/0"),
        await http.get("/nowhere"),
        await http.get("/boom"),
        await http.get("/health_check"),
    ]:
        assert re.fullmatch(r"\d+\.\d{2}ms", response.headers["x-response-time"])
        assert "x-request-id" in response.headers


async def test_a_mapped_error_has_its_status_code_and_message(http: httpx.AsyncClient) -> None:
    response = await http.get("/things/0", headers={"X-Request-ID": "req-1"})
    assert response.status_code == 404
    assert response.json() == {
        "detail": "Thing with id 0 not found",
        "code": "not_found",
        "request_id": "req-1",
    }


async def test_a_mapped_error_without_a_code_takes_the_exception_s_own(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/rule")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert body["detail"] == "Insufficient stock for product 7. Requested: 3, Available: 1"


async def test_an_unavailable_backend_is_a_503_with_retry_after_and_no_internals(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/down")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    body = response.json()
    assert (body["detail"], body["code"]) == ("Service unavailable.", "store_unavailable")
    assert "hunter2" not in response.text
    assert "10.0.0.5" not in response.text


async def test_validation_errors_keep_fastapi_s_field_list(http: httpx.AsyncClient) -> None:
    response = await http.post("/items", json={"name": "", "price": -1})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["request_id"] == response.headers["x-request-id"]
    assert {tuple(error["loc"]) for error in body["detail"]} == {
        ("body", "name"),
        ("body", "price"),
    }
    assert all({"type", "msg"} <= error.keys() for error in body["detail"])


async def test_a_path_parameter_of_the_wrong_type_is_a_422(http: httpx.AsyncClient) -> None:
    response = await http.get("/things/abc")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path", "thing_id"]


@pytest.mark.parametrize(
    "body",
    [b'{"name": "a", "price": ', b"\xff\xfe not utf-8 \x80", b"[1, 2, 3]", b"null"],
    ids=["truncated", "not-utf8", "wrong-type", "null"],
)
async def test_a_malformed_body_is_a_422_never_a_500(http: httpx.AsyncClient, body: bytes) -> None:
    response = await http.post("/items", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_an_unknown_route_is_a_404_in_the_error_shape(http: httpx.AsyncClient) -> None:
    response = await http.get("/nowhere", headers={"X-Request-ID": "req-404"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found", "code": "not_found", "request_id": "req-404"}


async def test_a_wrong_method_is_a_405_naming_the_allowed_ones(http: httpx.AsyncClient) -> None:
    response = await http.delete("/things/1")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["code"] == "method_not_allowed"


async def test_an_unhandled_error_returns_only_an_error_id_that_the_log_line_carries(
    http: httpx.AsyncClient,
) -> None:
    with captured_logs() as logs:
        response = await http.get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    body = response.json()
    error_id = body["error_id"]
    assert re.fullmatch(r"[0-9a-f]{8}", error_id)
    assert body == {
        "detail": f"Internal error; reference {error_id}",
        "code": "internal_error",
        "error_id": error_id,
        "request_id": "req-500",
    }
    assert response.headers["x-request-id"] == "req-500"
    for internal in ("RuntimeError", "hunter2", "password", "Traceback", "boom"):
        assert internal not in response.text
    [line] = [line for line in logs.getvalue().splitlines() if error_id in line]
    assert "[req-500]" in line
    assert "GET /boom" in line
    assert "RuntimeError" in line


async def test_the_500_log_line_redacts_secrets_cards_and_ssns(http: httpx.AsyncClient) -> None:
    with captured_logs() as logs:
        await http.get("/boom")
    text = logs.getvalue()
    assert "RuntimeError" in text
    assert "Traceback" in text  # the details are there ...
    for secret in ("hunter2", "abc.def", "sk-123", "4111 1111 1111 1111", "123-45-6789", "eyJ"):
        assert secret not in text  # ... without the secrets, in the message and the traceback
    assert "[CARD_REDACTED]" in text
    assert "[SSN_REDACTED]" in text
    assert SECRET_FAILURE not in text


async def test_openapi_documents_the_error_body(http: httpx.AsyncClient) -> None:
    response = await http.get("/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert "ErrorBody" in schema["components"]["schemas"]
    responses = schema["paths"]["/things/{thing_id}"]["get"]["responses"]
    assert responses["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    assert "/health_check" in schema["paths"]
    assert "/health_check/" not in schema["paths"]

"""LOG_FORMAT=json: every line a log shipper reads is one JSON object with the time, level,
service, logger, request id and message (and the exception, when there is one), redacted like
the text lines; from an API serving a request, and from an `orders` command as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from orders.embedded import Endpoints
from tests.integration.web_demo import captured_logs, demo_app, demo_settings, serving

pytestmark = pytest.mark.integration

FIELDS = {"time", "level", "service", "logger", "request_id", "message"}


def objects(text: str) -> list[dict[str, Any]]:
    """Every line, parsed: a line that is not one JSON object fails here."""
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines
    for line in lines:
        assert set(line) >= FIELDS, line
        assert datetime.fromisoformat(line["time"]).tzinfo is not None
    return lines


@pytest.fixture
async def http(servers: Endpoints) -> AsyncIterator[httpx.AsyncClient]:
    app = demo_app(demo_settings(), redis_url=servers.redis_url)
    async with serving(app) as client:
        yield client


async def test_an_api_logs_one_json_object_per_line_with_the_request_id(
    http: httpx.AsyncClient,
) -> None:
    with captured_logs(log_format="json") as logs:
        response = await http.get("/boom", headers={"X-Request-ID": "req-json"})
    assert response.status_code == 500
    [failure] = [line for line in objects(logs.getvalue()) if "exception" in line]
    assert failure["request_id"] == "req-json"
    assert (failure["level"], failure["service"]) == ("ERROR", "test")
    assert response.json()["error_id"] in failure["message"]
    assert "RuntimeError" in failure["exception"]
    assert "hunter2" not in json.dumps(failure)  # redacted, as in the text format
    assert "[REDACTED]" in failure["exception"]


def test_an_orders_command_logs_json_when_asked(database_url: str, servers: Endpoints) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERS_", "REDIS_"))}
    # both servers named: the command starts no embedded one of its own
    named = {"DATABASE_URL": database_url, "REDIS_URL": servers.redis_url}
    done = subprocess.run(
        [sys.executable, "-m", "launch.cli", "migrate"],
        env={**env, **named, "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = objects(done.stderr)
    assert {line["service"] for line in lines} == {"orders"}
    assert any(line["message"] == "migrated to head" for line in lines), lines

"""Both APIs' OpenAPI documents, as their `/openapi.json` serves them, and the committed copies a
test holds them to. After a deliberate change of the API, write the new copies with
`.venv/bin/python -m tests.openapi_documents` and commit them with the change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from command_api.app import create_app as command_app
from orders.settings import Settings
from query_api.app import create_app as query_app

FIXTURES = Path(__file__).parent / "fixtures" / "openapi"
APPS: dict[str, Callable[[Settings, str, str], FastAPI]] = {
    "command": command_app,
    "query": query_app,
}


def served(name: str) -> bytes:
    """The document's bytes as served; building an app connects to nothing."""
    app = APPS[name](Settings(_env_file=None), "postgresql://unused@/unused", "redis://unused")
    return bytes(JSONResponse(app.openapi()).body)


def committed(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


if __name__ == "__main__":
    for api in APPS:
        (FIXTURES / f"{api}.json").write_bytes(served(api))
        print(f"wrote {FIXTURES / api}.json")  # noqa: T201

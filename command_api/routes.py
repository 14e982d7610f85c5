"""POST, PUT and DELETE for every entity of the catalogue (`domain.catalogue.ENTITIES`).

(No `from __future__ import annotations` here: FastAPI reads the body annotations of the route
functions built in `_routes`, which must be the classes themselves, not strings.)
"""

import hashlib
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import Response

from command_api.commands import change_command, create_command, delete_command
from command_api.errors import ERROR_RESPONSES, BadHeaderError
from command_api.handling import Edge, Outcome, handle
from domain.catalogue import ENTITIES, spec_of
from domain.decision import Command
from domain.entity import Entity
from orders.consistency import token_for

_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_ETAG = re.compile(r'(?:W/)?"?(\d{1,18})"?')

PathId = Annotated[int, Path(ge=1, le=2**53, description="The entity's id_key")]
IfMatch = Annotated[
    str | None, Header(description="ETag from an earlier response; 412 if it changed since")
]
IdempotencyKey = Annotated[
    str | None,
    Header(description="Retries with the same key and body get the first response back"),
]


def _if_match(value: str | None) -> int | None:
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.fullmatch(value.strip())
    if match is None:
        raise BadHeaderError("If-Match", "not an ETag this API issued")
    return int(match.group(1))


def _canonical(raw: bytes) -> bytes:
    """The body as a retry would send it, whatever its key order or whitespace."""
    try:
        return orjson.dumps(orjson.loads(raw), option=orjson.OPT_SORT_KEYS) if raw else b""
    except orjson.JSONDecodeError:  # JSON that FastAPI's parser takes but orjson not (NaN)
        return raw


async def edge_of(request: Request, if_match: str | None, key: str | None) -> Edge:
    if key is not None and not _KEY.fullmatch(key):
        raise BadHeaderError("Idempotency-Key", "1 to 255 printable ASCII characters")
    request_id = getattr(request.state, "request_id", None) or str(uuid.uuid4())
    fingerprint = hashlib.sha256(
        f"{request.method} {request.url.path.rstrip('/')}\n".encode()
        + _canonical(await request.body())
    ).digest()
    client = request.client.host if request.client else "unknown"
    return Edge(
        request_id=request_id,
        correlation_id=request.headers.get("x-correlation-id", request_id)[:128],
        actor=getattr(request.state, "client_ip", client),
        at=datetime.now(UTC),
        if_match=_if_match(if_match),
        idempotency_key=key,
        fingerprint=fingerprint,
    )


def _renderer(entity: Entity, id_key: int, status: int) -> Callable[[Outcome], bytes]:
    def render(outcome: Outcome) -> bytes:
        headers: dict[str, str] = {}
        body = ""
        if outcome.position is not None:
            headers["x-consistency-token"] = token_for(outcome.position)
        if status != 204:  # noqa: PLR2004
            found = entity.find(outcome.states, id_key)
            if found is None:
                raise LookupError(f"{entity.name} {id_key} has no document after the write")
            document, stream = found
            headers["etag"] = f'"{outcome.versions[stream]}"'
            body = orjson.dumps(document).decode()
        if status == 201:  # noqa: PLR2004
            headers["location"] = f"{entity.path}/{id_key}"
        return orjson.dumps({"status": status, "headers": headers, "body": body})

    return render


async def _run(
    request: Request, entity: Entity, command: Command, edge: Edge, status: int
) -> Response:
    commands = request.app.state.commands
    render = _renderer(entity, command.id_key, status)
    # a create's own stream is named by the id just drawn: it is empty
    fresh = status == 201 and spec_of(command).own  # noqa: PLR2004
    stored, replayed = await handle(commands.path, command, edge, render, fresh=fresh)
    envelope: dict[str, Any] = orjson.loads(stored)
    headers = envelope["headers"]
    if replayed:
        headers = {**headers, "idempotent-replayed": "true"}
    elif "x-consistency-token" in headers:
        await commands.waker.wake()
    body = envelope["body"].encode()
    media = "application/json" if body else None
    return Response(body, status_code=envelope["status"], headers=headers, media_type=media)


def _routes(entity: Entity, router: APIRouter) -> None:
    create_body, change_body = entity.create_body, entity.change_body
    document = entity.document
    errors = ERROR_RESPONSES

    async def create(
        body: create_body,  # type: ignore[valid-type]
        request: Request,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        edge = await edge_of(request, None, idempotency_key)
        id_key = await request.app.state.commands.ids.next_id(entity.sequence)
        command = create_command(entity, id_key, body, edge.at)
        return await _run(request, entity, command, edge, 201)

    async def change(
        id_key: PathId,
        body: change_body,  # type: ignore[valid-type]
        request: Request,
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        edge = await edge_of(request, if_match, idempotency_key)
        return await _run(request, entity, change_command(entity, id_key, body), edge, 200)

    async def delete(
        id_key: PathId,
        request: Request,
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response:
        edge = await edge_of(request, if_match, idempotency_key)
        return await _run(request, entity, delete_command(entity, id_key), edge, 204)

    noun = entity.name.replace("_", " ")
    base = entity.path
    tags: list[str | Enum] = [entity.tag]
    for path, visible in ((base, True), (f"{base}/", False)):
        router.add_api_route(
            path, create, methods=["POST"], status_code=201, include_in_schema=visible,
            summary=f"Create one of the {noun}", response_model=document, responses=errors,
            operation_id=f"create_{entity.name}" if visible else None, tags=tags,
        )  # fmt: skip
    router.add_api_route(
        f"{base}/{{id_key}}", change, methods=["PUT"], tags=tags,
        summary=f"Change one of the {noun} (partial)", response_model=document,
        responses=errors, operation_id=f"change_{entity.name}",
    )  # fmt: skip
    router.add_api_route(
        f"{base}/{{id_key}}", delete, methods=["DELETE"], status_code=204, responses=errors,
        summary=f"Delete one of the {noun}", operation_id=f"delete_{entity.name}",
        response_class=Response, tags=tags,
    )  # fmt: skip


def add_routes(router: APIRouter) -> None:
    """Every entity's routes, straight on the app's router: an included router is matched
    through a wrapper per request (twice), which costs more than the command's own decision."""
    for entity in ENTITIES:
        _routes(entity, router)

"""The auditors' endpoints: an entity's history and its state as of a point, the global feed in
commit order, and the hash-chain verification. Every one needs the audit token (`auth.py`).

(No `from __future__ import annotations`: FastAPI reads the annotations of the route functions
built in loops here.)
"""

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from eventstore import EventStore, RecordedEvent
from orders.web import error_response
from orders.web.auth import AUDITORS, check_token, require_auditor
from query_api.errors import AUDIT_ERRORS, BadParameterError
from query_api.history import Cut, read_as_of, read_history
from query_api.resources import ID_MAX, RESOURCES, Resource

PathId = Annotated[int, Path(ge=1, le=ID_MAX, description="The entity's id_key")]
FEED_POSITION_MAX = 2**62


class EventRecord(BaseModel):
    """One event as stored (data upcast to its current schema version)."""

    feed_position: int | None = Field(description="Commit order; null until sequenced.")
    global_position: int
    stream_id: str
    version: int = Field(description="1-based, per stream.")
    event_id: UUID
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any] = Field(description="Request id, correlation, actor, command.")
    recorded_at: dt.datetime


class VerifyResult(BaseModel):
    ok: bool
    checked: int = Field(description="Feed positions verified (before the first bad one).")
    first_bad_position: int | None
    problem: str | None


def _record(e: RecordedEvent) -> dict[str, Any]:
    return {
        "feed_position": e.feed_position,
        "global_position": e.global_position,
        "stream_id": e.stream_id,
        "version": e.version,
        "event_id": e.event_id,
        "type": e.type,
        "schema_version": e.schema_version,
        "data": e.data,
        "metadata": e.metadata,
        "recorded_at": e.recorded_at,
    }


def _events_response(events: list[RecordedEvent]) -> Response:
    body = orjson.dumps([_record(e) for e in events])
    return Response(body, media_type="application/json", headers={"X-Read-Source": "events"})


def parse_cut(as_of: str) -> Cut:
    """A feed position (digits) or an ISO 8601 time (UTC when it names no zone)."""
    text = as_of.strip()
    if text.isascii() and text.isdigit():
        position = int(text)
        if position <= FEED_POSITION_MAX:
            return position
    else:
        # an unencoded "+" of a UTC offset arrives as a space
        for candidate in dict.fromkeys((text, text.replace(" ", "+"))):
            try:
                moment = dt.datetime.fromisoformat(candidate)
            except ValueError:
                continue
            return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    raise BadParameterError(
        "query", "as_of", "an ISO 8601 time or a feed position (an integer)", "invalid_as_of"
    )


async def state_as_of(request: Request, resource: Resource, id_key: int, as_of: str) -> Response:
    """GET /{resource}/{id}?as_of=...: the document replayed from the events up to that point."""
    check_token(request, AUDITORS)
    cut = parse_cut(as_of)
    store: EventStore = request.app.state.store
    doc = await read_as_of(store, resource.name, id_key, cut)
    headers = {"X-Read-Source": "events"}
    if doc is None:
        message = f"{resource.noun} with id {id_key} did not exist as of {as_of}"
        return error_response(404, message, "not_found", headers=headers)
    return Response(orjson.dumps(doc), media_type="application/json", headers=headers)


def _history_route(router: APIRouter, resource: Resource) -> None:
    async def history(request: Request, id_key: PathId) -> Response:
        events = await read_history(request.app.state.store, resource.name, id_key)
        if not events:
            message = f"{resource.noun} with id {id_key} not found"
            return error_response(404, message, "not_found", headers={"X-Read-Source": "events"})
        return _events_response(events)

    router.add_api_route(
        f"{resource.path}/{{id_key}}/history", history, methods=["GET"], tags=["Audit"],
        summary=f"Every event of one of the {resource.name.replace('_', ' ')}, in commit order",
        response_model=list[EventRecord], responses=AUDIT_ERRORS,
        operation_id=f"history_{resource.name}",
    )  # fmt: skip


async def feed(
    request: Request,
    after: Annotated[int, Query(ge=0, le=FEED_POSITION_MAX, description="Feed position")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    store: EventStore = request.app.state.store
    return _events_response(await store.read_feed(after, limit))


async def verify(
    request: Request,
    first: Annotated[int, Query(alias="from", ge=1, le=FEED_POSITION_MAX)] = 1,
    last: Annotated[int | None, Query(alias="to", ge=1, le=FEED_POSITION_MAX)] = None,
) -> Response:
    store: EventStore = request.app.state.store
    report = await store.verify(first, last)
    body = {
        "ok": report.ok,
        "checked": report.checked,
        "first_bad_position": report.first_bad_position,
        "problem": report.problem,
    }
    return Response(orjson.dumps(body), media_type="application/json")


def build_audit_router() -> APIRouter:
    router = APIRouter(dependencies=[Depends(require_auditor)])
    for resource in RESOURCES:
        _history_route(router, resource)
    router.add_api_route(
        "/events", feed, methods=["GET"], tags=["Audit"], response_model=list[EventRecord],
        summary="The global feed: every event in commit order, after a feed position",
        responses=AUDIT_ERRORS, operation_id="read_feed",
    )  # fmt: skip
    router.add_api_route(
        "/audit/verify", verify, methods=["GET"], tags=["Audit"], response_model=VerifyResult,
        summary="Verify the feed's hash chain; names the first bad position",
        responses=AUDIT_ERRORS, operation_id="verify_feed",
    )  # fmt: skip
    return router

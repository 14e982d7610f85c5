"""The operators' endpoints, behind ORDERS_ADMIN_TOKEN (`auth.py`): where the projections stand
(what `orders projections status` prints) and rebuilds (what `orders projections rebuild` does,
queued for the projector's workers: `rebuilds.py`).

    GET  /admin/projections                 checkpoint, lag, Redis, rebuild, the event it
                                            cannot apply (if any) per projection; the feed
                                            head and what holds the sequencer back
    POST /admin/projections/rebuilds        202 + Location: a rebuild queued
    GET  /admin/projections/rebuilds/{id}   its state, progress (events/s, ETA) and outcome
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from orders.web import error_response
from orders.web.auth import require_operator
from query_api.errors import ADMIN_ERRORS
from query_api.rebuilds import RebuildJob, RebuildQueue
from readmodels.schema import PROJECTIONS
from readmodels.status import Failure, Progress, Status, read_rebuilds, read_status

NAMES = [p.name for p in PROJECTIONS]


class Blocker(BaseModel):
    pid: int
    application_name: str
    transaction_age_seconds: float
    state: str
    query: str


class Generation(BaseModel):
    generation: int
    position: int | None = Field(description="Feed position applied (null: not loaded yet).")


class ProjectionView(BaseModel):
    name: str
    generation: int = Field(description="The live generation: what readers read.")
    checkpoint: int = Field(description="Feed position applied in PostgreSQL.")
    lag_events: int = Field(description="Feed head minus checkpoint.")
    lag_seconds: float = Field(description="Age of the oldest event not applied yet.")
    events_applied: int
    redis: Generation | None = Field(description="The live generation in Redis (null: down).")
    rebuilding: Generation | None = Field(description="A rebuild's generation and progress.")
    failing: Failure | None = Field(
        default=None,
        description="The event the live generation cannot apply (null: none): it stopped at the"
        " position before it and tries again with backoff; the other projections go on.",
    )
    rebuild_failing: Failure | None = Field(
        default=None, description="The event the rebuild in progress cannot apply (null: none)."
    )


class StatusView(BaseModel):
    feed_head: int
    unsequenced: int = Field(description="Committed events not yet in the feed.")
    blockers: list[Blocker] = Field(description="Open transactions holding the feed back.")
    projections: list[ProjectionView]


class RebuildRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    projections: list[str] = Field(
        default_factory=list, max_length=100, validate_default=True,
        description=f"Of {', '.join(NAMES)}; none (or no body): all of them.",
    )  # fmt: skip

    @field_validator("projections")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in NAMES]
        if unknown:
            raise ValueError(f"no projection named {', '.join(unknown)}; there are {NAMES}")
        return [n for n in NAMES if n in names or not names]  # in order, once each


class RebuildView(BaseModel):
    id: str
    status: str = Field(description="RQ's: queued, started, finished, failed, stopped, ...")
    projections: list[str]
    enqueued_at: dt.datetime | None
    started_at: dt.datetime | None
    ended_at: dt.datetime | None
    progress: list[Progress] = Field(
        description="While started: each projection's bulk load (events_loaded), then replay."
    )
    result: list[dict[str, Any]] | None = Field(description="Finished: what each became.")
    error: str | None = Field(description="Failed: the error's last line.")


def _status_view(status: Status) -> StatusView:
    projections = [
        ProjectionView(
            name=p.name,
            generation=p.generation,
            checkpoint=p.position,
            lag_events=p.lag_events,
            lag_seconds=p.lag_seconds,
            events_applied=p.events_applied,
            redis=None
            if p.redis_generation is None
            else Generation(generation=p.redis_generation, position=p.redis_position),
            rebuilding=None
            if p.rebuilding is None
            else Generation(generation=p.rebuilding[0], position=p.rebuilding[1]),
            failing=p.failing,
            rebuild_failing=p.rebuild_failing,
        )
        for p in status.projections
    ]
    blockers = [Blocker.model_validate(b, from_attributes=True) for b in status.blockers]
    return StatusView(
        feed_head=status.head,
        unsequenced=status.unsequenced,
        blockers=blockers,
        projections=projections,
    )


async def projections_status(request: Request) -> StatusView:
    state = request.app.state
    return _status_view(await read_status(state.store, state.redis))


async def _view(request: Request, job: RebuildJob) -> RebuildView:
    progress = []
    if job.status == "started":
        store = request.app.state.store
        progress = await read_rebuilds(store, job.projections)
    return RebuildView(
        id=job.id, status=job.status, projections=job.projections, enqueued_at=job.enqueued_at,
        started_at=job.started_at, ended_at=job.ended_at, result=job.result, error=job.error,
        progress=progress,
    )  # fmt: skip


def _not_found(rebuild_id: str) -> Response:
    return error_response(404, f"No rebuild with id {rebuild_id} (or it has expired)")


async def start_rebuild(
    request: Request,
    response: Response,
    body: Annotated[RebuildRequest | None, Body()] = None,
) -> RebuildView | Response:
    queue: RebuildQueue = request.app.state.rebuilds
    job_id = await queue.enqueue((body or RebuildRequest()).projections)
    job = await queue.read(job_id)
    if job is None:  # expired within a moment: only a Redis that lost it
        return _not_found(job_id)
    response.headers["Location"] = f"/admin/projections/rebuilds/{job_id}"
    return await _view(request, job)


async def read_rebuild(
    request: Request, rebuild_id: Annotated[UUID, Path(description="From the Location header")]
) -> RebuildView | Response:
    queue: RebuildQueue = request.app.state.rebuilds
    job = await queue.read(str(rebuild_id))
    if job is None:
        return _not_found(str(rebuild_id))
    return await _view(request, job)


def build_admin_router() -> APIRouter:
    router = APIRouter(
        prefix="/admin/projections", tags=["Admin"], dependencies=[Depends(require_operator)]
    )
    router.add_api_route(
        "", projections_status, methods=["GET"], response_model=StatusView,
        summary="Where each projection stands: checkpoint, lag, Redis, rebuild; feed stalls",
        responses=ADMIN_ERRORS, operation_id="projections_status",
    )  # fmt: skip
    router.add_api_route(
        "/rebuilds", start_rebuild, methods=["POST"], status_code=202,
        response_model=RebuildView, responses=ADMIN_ERRORS,
        summary="Queue a rebuild (all projections when none are named); Location: its progress",
        operation_id="start_rebuild",
    )  # fmt: skip
    router.add_api_route(
        "/rebuilds/{rebuild_id}", read_rebuild, methods=["GET"], response_model=RebuildView,
        summary="A rebuild's state, progress (events/s, ETA) and outcome",
        responses=ADMIN_ERRORS, operation_id="read_rebuild",
    )  # fmt: skip
    return router

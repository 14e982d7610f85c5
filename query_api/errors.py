"""The query API's refusals and their one mapping to HTTP.

    BadParameterError        a header or query value this API parses itself is malformed (422,
                             FastAPI's field-error shape under `detail`)
    ProjectionBehindError    X-Consistency-Token named a write the projection has not reached in
                             time (503 + Retry-After); an ApiError, so it carries its own headers
    ReadModelsUnavailableError  neither Redis nor PostgreSQL answered (503 + Retry-After)
    RebuildQueueUnavailableError  Redis, holding the rebuild jobs, did not answer (503 +
                             Retry-After)
    RebuildAlreadyQueuedError  a rebuild of one of the projections is queued or running (409 +
                             Location of that one); an ApiError (`rebuilds.py`)

The event store's StoreUnavailableError (the auditors' reads) is a 503 too. A 404 is no
exception here: the routes answer it with the read's headers.
"""

from __future__ import annotations

from typing import Any

from eventstore import StoreUnavailableError
from orders.web import ApiError, ErrorMapping, ErrorRule, error_responses
from query_api.rebuilds import RebuildQueueUnavailableError

RETRY_AFTER_SECONDS = 1


class BadParameterError(Exception):
    def __init__(self, location: str, name: str, message: str, code: str) -> None:
        super().__init__(f"{name}: {message}")
        self.location, self.name, self.message, self.code = location, name, message, code


class ProjectionBehindError(ApiError):
    def __init__(self, projection: str, wanted: int | None, reached: int | None) -> None:
        needs = "a write not yet in the feed" if wanted is None else f"feed position {wanted}"
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if reached is not None:
            headers["X-Projection-Position"] = str(reached)
        super().__init__(
            503,
            f"The {projection} read model has not caught up with your write yet (it needs"
            f" {needs}, it is at {reached if reached is not None else 'an unknown position'});"
            " retry shortly.",
            "projection_behind",
            headers,
        )


class ReadModelsUnavailableError(Exception):
    """PostgreSQL failed after Redis could not answer."""


def _field_errors(e: Exception) -> list[dict[str, Any]]:
    assert isinstance(e, BadParameterError)
    return [{"loc": [e.location, e.name], "msg": e.message, "type": e.code}]


UNAVAILABLE = ErrorRule(
    503,
    "read_models_unavailable",
    "The read models are unavailable; retry.",
    {"Retry-After": str(RETRY_AFTER_SECONDS)},
)

ERRORS: ErrorMapping = {
    BadParameterError: ErrorRule(422, detail=_field_errors),
    ReadModelsUnavailableError: UNAVAILABLE,
    StoreUnavailableError: ErrorRule(
        503, "store_unavailable", "The event store is unavailable; retry.", {"Retry-After": "1"}
    ),
    RebuildQueueUnavailableError: ErrorRule(
        503,
        "rebuild_queue_unavailable",
        "The rebuild queue (Redis) is unavailable; retry.",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    ),
}

READ_ERRORS = error_responses(404, 422, 429, 500, 503)
AUDIT_ERRORS = error_responses(401, 403, 404, 422, 429, 500, 503)
ADMIN_ERRORS = error_responses(401, 403, 404, 409, 422, 429, 500, 503)

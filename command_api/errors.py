"""The command API's one error mapping: every refusal the command path can raise, to its status.

Routes never raise HTTP errors for business rules; the domain and the store raise their own, and
this table is the only place that knows what they mean in HTTP.
"""

from __future__ import annotations

from typing import Any

from command_api.handling import PreconditionFailedError, TooMuchContentionError
from domain.errors import ConflictError, InvalidCommandError, NotFoundError, RuleViolationError
from eventstore import IdempotencyKeyReusedError, InvalidAppendError, StoreUnavailableError
from orders.web import ErrorMapping, ErrorRule, error_responses


class BadHeaderError(Exception):
    """A request header this API reads (If-Match, Idempotency-Key) is malformed."""

    code = "invalid_header"

    def __init__(self, header: str, expected: str) -> None:
        super().__init__(f"{header}: {expected}")


def _field_errors(e: Exception) -> list[dict[str, Any]]:
    """A domain field error in FastAPI's 422 shape, so clients parse one kind of 422."""
    assert isinstance(e, InvalidCommandError)
    return [{"loc": ["body", e.field], "msg": e.message, "type": e.code}]


ERRORS: ErrorMapping = {
    NotFoundError: 404,
    RuleViolationError: 400,
    ConflictError: 409,
    InvalidCommandError: ErrorRule(422, detail=_field_errors),
    BadHeaderError: 422,
    PreconditionFailedError: ErrorRule(412, "precondition_failed"),
    TooMuchContentionError: ErrorRule(409, "contention", headers={"Retry-After": "1"}),
    IdempotencyKeyReusedError: ErrorRule(
        422, "idempotency_key_reused", "This Idempotency-Key was used for a different request."
    ),
    InvalidAppendError: ErrorRule(422, "invalid_value"),
    StoreUnavailableError: ErrorRule(
        503, "store_unavailable", "The event store is unavailable; retry.", {"Retry-After": "1"}
    ),
}

ERROR_RESPONSES = error_responses(400, 404, 409, 412, 413, 422, 429, 500, 503)

"""The state and decider of reviews: see `domain.review`."""

from dataclasses import dataclass
from typing import assert_never

from domain import validation
from domain.decider import Decider, existing
from domain.errors import ConflictError, NotFoundError
from domain.patch import patched
from domain.records import replace
from domain.review._messages import (
    ChangeReview,
    CreateReview,
    DeleteReview,
    ReviewChanged,
    ReviewCommand,
    ReviewCreated,
    ReviewDeleted,
    ReviewEvent,
)

KIND = "review"
COMMENT_MIN_LENGTH = 10
COMMENT_MAX_LENGTH = 1000

# --- state --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewState:
    id_key: int
    product_id: int
    rating: float
    comment: str | None
    deleted: bool = False


def require(state: ReviewState | None, id_key: int) -> ReviewState:
    if state is None or state.deleted:
        raise NotFoundError("Review", id_key)
    return state


# --- decide -------------------------------------------------------------------------------


def decide(state: ReviewState | None, command: ReviewCommand) -> list[ReviewEvent]:
    match command:
        case CreateReview():
            return _create(state, command)
        case ChangeReview():
            return _change(require(state, command.id_key), command)
        case DeleteReview():
            review = require(state, command.id_key)
            return [ReviewDeleted(review.id_key, review.product_id)]
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(command)


def _rating(rating: float) -> float:
    return validation.rating("rating", rating)


def _comment(comment: str | None) -> str | None:
    return validation.optional_text(
        "comment", comment, min_length=COMMENT_MIN_LENGTH, max_length=COMMENT_MAX_LENGTH
    )


def _product_id(product_id: int) -> int:
    return validation.required("product_id", product_id)


def _create(state: ReviewState | None, command: CreateReview) -> list[ReviewEvent]:
    rating, comment = _rating(command.rating), _comment(command.comment)
    product_id = _product_id(command.product_id)
    if state is not None:
        raise ConflictError(f"Review with id {command.id_key} already exists", code="duplicate_id")
    return [ReviewCreated(command.id_key, product_id, rating, comment)]


def changed_review(state: ReviewState, command: ChangeReview) -> ReviewState:
    """The review as the PUT would leave it, every sent field validated."""
    validation.same_id(command.id_key, command.body_id_key)
    return replace(
        state,
        product_id=patched(command.product_id, state.product_id, _product_id),
        rating=patched(command.rating, state.rating, _rating),
        comment=patched(command.comment, state.comment, _comment),
    )


def _change(state: ReviewState, command: ChangeReview) -> list[ReviewEvent]:
    changed = changed_review(state, command)
    if changed == state:
        return []
    return [ReviewChanged(state.id_key, changed.product_id, changed.rating, changed.comment)]


# --- evolve -------------------------------------------------------------------------------


def evolve(state: ReviewState | None, event: ReviewEvent) -> ReviewState | None:
    match event:
        case ReviewCreated(id_key=id_key, product_id=product_id, rating=rating):
            return ReviewState(id_key, product_id, rating, event.comment)
        case ReviewChanged(product_id=product_id, rating=rating, comment=comment):
            current = existing(state, event)
            return replace(current, product_id=product_id, rating=rating, comment=comment)
        case ReviewDeleted():
            return replace(existing(state, event), deleted=True)
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(event)


decider: Decider[ReviewCommand, ReviewEvent, ReviewState | None] = Decider(
    initial_state=None, decide=decide, evolve=evolve
)

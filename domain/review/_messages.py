"""The commands and events of reviews: see `domain.review`."""

from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from domain.patch import UNSET, Unset

# --- commands -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateReview:
    id_key: int
    product_id: int
    rating: float
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeReview:
    id_key: int
    product_id: int | Unset = UNSET
    rating: float | Unset = UNSET
    comment: str | Unset | None = UNSET
    body_id_key: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteReview:
    id_key: int


ReviewCommand: TypeAlias = CreateReview | ChangeReview | DeleteReview

# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewCreated:
    type_name: ClassVar[str] = "ReviewCreated"
    schema_version: ClassVar[int] = 1
    id_key: int
    product_id: int
    rating: float
    comment: str | None


@dataclass(frozen=True, slots=True)
class ReviewChanged:
    type_name: ClassVar[str] = "ReviewChanged"
    schema_version: ClassVar[int] = 1
    id_key: int
    product_id: int
    rating: float
    comment: str | None


@dataclass(frozen=True, slots=True)
class ReviewDeleted:
    type_name: ClassVar[str] = "ReviewDeleted"
    schema_version: ClassVar[int] = 1
    id_key: int
    product_id: int


ReviewEvent: TypeAlias = ReviewCreated | ReviewChanged | ReviewDeleted

"""Reviews in the catalogue: their document, bodies and list filters (see `domain.entity`)."""

from typing import Annotated, get_args

from pydantic import BaseModel, Field

from domain.bodies import Body, Id
from domain.entity import Aggregate, Document, Entity, ListFilters
from domain.review._decider import KIND, ReviewState, decider
from domain.review._decisions import SPECS
from domain.review._messages import ChangeReview, CreateReview, DeleteReview, ReviewEvent


class ReviewCreate(Body):
    rating: Annotated[float, Field(ge=1.0, le=5.0)]
    comment: Annotated[str, Field(min_length=10, max_length=1000)] | None = None
    product_id: Id


class ReviewChange(Body):
    rating: Annotated[float, Field(ge=1.0, le=5.0)] | None = None
    comment: Annotated[str, Field(min_length=10, max_length=1000)] | None = None
    product_id: Id | None = None


class ReviewDocument(BaseModel):
    id_key: int
    rating: float
    comment: str | None
    product_id: int


class ByProduct(ListFilters):
    product_id: Id | None = Field(default=None, description="Only this product's reviews.")


def review_documents(state: ReviewState | None) -> list[Document]:
    if state is None or state.deleted:
        return []
    return [
        {
            "id_key": state.id_key,
            "rating": state.rating,
            "comment": state.comment,
            "product_id": state.product_id,
        }
    ]


REVIEWS = Entity(
    "reviews", "Review", "Reviews", KIND, "review", review_documents,
    ReviewDocument, ReviewCreate, ReviewChange,
    CreateReview, ChangeReview, DeleteReview,
    filters=ByProduct,
    indexed=("product_id",),
    shapes=(("product_id",),),
)  # fmt: skip

AGGREGATE = Aggregate(KIND, decider, ReviewState, get_args(ReviewEvent), (REVIEWS,), SPECS)

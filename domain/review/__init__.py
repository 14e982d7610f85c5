"""Review: a rating of a product, with an optional comment.

Ratings are floats from 1.0 to 5.0: the original's type, a JSON number both ways, and a value
that is only ever compared and averaged, never summed into money. That the product exists is
checked by its decision, which reads the product stream.
"""

from domain.review._decider import (
    COMMENT_MAX_LENGTH,
    COMMENT_MIN_LENGTH,
    KIND,
    ReviewState,
    changed_review,
    decide,
    decider,
    evolve,
    require,
)
from domain.review._decisions import change_review, create_review, delete_review
from domain.review._entity import (
    AGGREGATE,
    REVIEWS,
    ByProduct,
    ReviewChange,
    ReviewCreate,
    ReviewDocument,
    review_documents,
)
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

__all__ = [
    "AGGREGATE",
    "COMMENT_MAX_LENGTH",
    "COMMENT_MIN_LENGTH",
    "KIND",
    "REVIEWS",
    "ByProduct",
    "ChangeReview",
    "CreateReview",
    "DeleteReview",
    "ReviewChange",
    "ReviewChanged",
    "ReviewCommand",
    "ReviewCreate",
    "ReviewCreated",
    "ReviewDeleted",
    "ReviewDocument",
    "ReviewEvent",
    "ReviewState",
    "change_review",
    "changed_review",
    "create_review",
    "decide",
    "decider",
    "delete_review",
    "evolve",
    "require",
    "review_documents",
]

"""The review commands' decisions and specs: a review, and the product it rates."""

from domain import product
from domain.decision import One, Spec, on, own, require_moved
from domain.events import StreamEvents
from domain.product import ProductState
from domain.review._decider import KIND, ReviewState, decide, require
from domain.review._messages import ChangeReview, CreateReview, DeleteReview


def create_review(
    state: ReviewState | None, product_state: ProductState | None, command: CreateReview
) -> StreamEvents:
    """`product_state` is product `command.product_id`'s; missing: 404."""
    events = decide(state, command)
    product.require(product_state, command.product_id)
    return on(KIND, command.id_key, events)


def change_review(
    state: ReviewState | None, product_state: ProductState | None, command: ChangeReview
) -> StreamEvents:
    """`product_state` is product `command.product_id`'s when that is sent (else unused)."""
    events = decide(state, command)
    current = require(state, command.id_key).product_id
    require_moved(command.product_id, current, product_state, product.require)
    return on(KIND, command.id_key, events)


def delete_review(state: ReviewState | None, command: DeleteReview) -> StreamEvents:
    return on(KIND, command.id_key, decide(state, command))


SPECS: tuple[Spec, ...] = (
    own(KIND, CreateReview, create_review, lambda c, _: (One(product.KIND, c.product_id),)),
    own(KIND, ChangeReview, change_review, lambda c, _: (One(product.KIND, c.product_id),)),
    own(KIND, DeleteReview, delete_review),
)

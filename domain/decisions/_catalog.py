"""Decisions on categories, products and reviews."""

from collections.abc import Mapping

from domain import category, product, review
from domain.category import AttachProduct, CategoryCommand, CategoryState, DetachProduct
from domain.decider import fold
from domain.decisions._fanout import decide_each, lookup, merged, on
from domain.events import StreamEvents
from domain.patch import pick
from domain.product import ChangeProduct, CreateProduct, DeactivateProduct, ProductState
from domain.review import ChangeReview, CreateReview, DeleteReview, ReviewState
from domain.streams import CATEGORY, PRODUCT, REVIEW


def create_category(state: CategoryState | None, command: category.CreateCategory) -> StreamEvents:
    return on(CATEGORY, command.id_key, category.decide(state, command))


def change_category(state: CategoryState | None, command: category.ChangeCategory) -> StreamEvents:
    return on(CATEGORY, command.id_key, category.decide(state, command))


def delete_category(state: CategoryState | None, command: category.DeleteCategory) -> StreamEvents:
    """409 while it has active products: the category stream knows them."""
    return on(CATEGORY, command.id_key, category.decide(state, command))


def create_product(
    state: ProductState | None, category_state: CategoryState | None, command: CreateProduct
) -> StreamEvents:
    """Product stream + its category's (the product joins its active products).

    `category_state` is category `command.category_id`'s; missing or deleted: 404.
    """
    events = product.decide(state, command)
    category.require(category_state, command.category_id)
    attach = AttachProduct(command.category_id, command.id_key)
    return merged(
        on(PRODUCT, command.id_key, events),
        on(CATEGORY, command.category_id, category.decide(category_state, attach)),
    )


def change_product(
    state: ProductState | None,
    categories: Mapping[int, CategoryState | None],
    command: ChangeProduct,
) -> StreamEvents:
    """Product stream + the categories it leaves or joins (move, deactivation, reactivation).

    `categories` holds the product's current category and `command.category_id` if sent.
    """
    events = product.decide(state, command)
    before = product.require(state, command.id_key)
    after = product.require(fold(product.decider, events, before), command.id_key)
    return merged(on(PRODUCT, command.id_key, events), _membership(before, after, categories))


def deactivate_product(
    state: ProductState | None,
    categories: Mapping[int, CategoryState | None],
    command: DeactivateProduct,
) -> StreamEvents:
    """Product stream + its category's (it leaves the active products). 204 when inactive."""
    events = product.decide(state, command)
    before = product.require(state, command.id_key)
    after = product.require(fold(product.decider, events, before), command.id_key)
    return merged(on(PRODUCT, command.id_key, events), _membership(before, after, categories))


def _membership(
    before: ProductState, after: ProductState, categories: Mapping[int, CategoryState | None]
) -> StreamEvents:
    """The category events that keep each category's set of active products exact."""
    if after.category_id != before.category_id:
        # Even an inactive product may only point at a category that exists.
        category.require(lookup(categories, CATEGORY, after.category_id), after.category_id)
    was = {before.category_id} if before.active else set()
    now = {after.category_id} if after.active else set()
    commands: list[tuple[int, CategoryCommand]] = [
        (c, DetachProduct(c, after.id_key)) for c in sorted(was - now)
    ]
    commands += [(c, AttachProduct(c, after.id_key)) for c in sorted(now - was)]
    return decide_each(category.decider, CATEGORY, categories, commands)


def create_review(
    state: ReviewState | None, product_state: ProductState | None, command: CreateReview
) -> StreamEvents:
    """`product_state` is product `command.product_id`'s; missing: 404."""
    events = review.decide(state, command)
    product.require(product_state, command.product_id)
    return on(REVIEW, command.id_key, events)


def change_review(
    state: ReviewState | None, product_state: ProductState | None, command: ChangeReview
) -> StreamEvents:
    """`product_state` is product `command.product_id`'s when that is sent (else unused)."""
    events = review.decide(state, command)
    current = review.require(state, command.id_key).product_id
    if (product_id := pick(command.product_id, current)) != current:
        product.require(product_state, product_id)
    return on(REVIEW, command.id_key, events)


def delete_review(state: ReviewState | None, command: DeleteReview) -> StreamEvents:
    return on(REVIEW, command.id_key, review.decide(state, command))

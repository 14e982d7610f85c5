"""The product commands' decisions and specs: a product and the categories it belongs to.

A category records its active products, so every command that changes where a product is
active (created, moved, deactivated, reactivated) appends to the category streams it leaves
and joins in the same append as the product's own events.
"""

from collections.abc import Mapping

from domain import category
from domain.category import AttachProduct, CategoryCommand, CategoryState, DetachProduct
from domain.decider import fold
from domain.decision import Each, One, Read, Spec, decide_each, lookup, merged, on, own, sent
from domain.events import StreamEvents
from domain.patch import UNSET
from domain.product._decider import KIND, ProductState, decide, decider, require
from domain.product._messages import ChangeProduct, CreateProduct, DeactivateProduct


def create_product(
    state: ProductState | None, category_state: CategoryState | None, command: CreateProduct
) -> StreamEvents:
    """Product stream + its category's (the product joins its active products).

    `category_state` is category `command.category_id`'s; missing or deleted: 404.
    """
    events = decide(state, command)
    category.require(category_state, command.category_id)
    attach = AttachProduct(command.category_id, command.id_key)
    return merged(
        on(KIND, command.id_key, events),
        on(category.KIND, command.category_id, category.decide(category_state, attach)),
    )


def change_product(
    state: ProductState | None,
    categories: Mapping[int, CategoryState | None],
    command: ChangeProduct | DeactivateProduct,
) -> StreamEvents:
    """Product stream + the categories it leaves or joins (move, deactivation, reactivation;
    a DELETE deactivates: 204 when already inactive).

    `categories` holds the product's current category and `command.category_id` if sent.
    """
    events = decide(state, command)
    before = require(state, command.id_key)
    after = require(fold(decider, events, before), command.id_key)
    return merged(on(KIND, command.id_key, events), _membership(before, after, categories))


def _membership(
    before: ProductState, after: ProductState, categories: Mapping[int, CategoryState | None]
) -> StreamEvents:
    """The category events that keep each category's set of active products exact."""
    if after.category_id != before.category_id:
        # Even an inactive product may only point at a category that exists.
        category.require(lookup(categories, category.KIND, after.category_id), after.category_id)
    was = {before.category_id} if before.active else set()
    now = {after.category_id} if after.active else set()
    commands: list[tuple[int, CategoryCommand]] = [
        (c, DetachProduct(c, after.id_key)) for c in sorted(was - now)
    ]
    commands += [(c, AttachProduct(c, after.id_key)) for c in sorted(now - was)]
    return decide_each(category.decider, category.KIND, categories, commands)


def _categories(
    command: ChangeProduct | DeactivateProduct, state: ProductState | None
) -> tuple[Read, ...]:
    """The product's category and the one it is sent to: it leaves one and joins the other."""
    current = frozenset() if state is None else frozenset({state.category_id})
    moved = UNSET if isinstance(command, DeactivateProduct) else command.category_id
    return (Each(category.KIND, current | sent(moved)),)


SPECS: tuple[Spec, ...] = (
    own(KIND, CreateProduct, create_product, lambda c, _: (One(category.KIND, c.category_id),)),
    own(KIND, ChangeProduct, change_product, _categories),
    own(KIND, DeactivateProduct, change_product, _categories),
)

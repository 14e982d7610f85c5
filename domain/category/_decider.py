"""The state and decider of categories: see `domain.category`."""

from dataclasses import dataclass, field
from typing import assert_never

from domain import validation
from domain.category._messages import (
    AttachProduct,
    CategoryCommand,
    CategoryCreated,
    CategoryDeleted,
    CategoryEvent,
    CategoryProductAttached,
    CategoryProductDetached,
    CategoryRenamed,
    ChangeCategory,
    CreateCategory,
    DeleteCategory,
    DetachProduct,
)
from domain.decider import Decider, existing
from domain.errors import ConflictError, NotFoundError
from domain.patch import Unset
from domain.records import replace

KIND = "category"
NAME_MAX_LENGTH = 100

# --- state --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryState:
    id_key: int
    name: str
    active_products: frozenset[int] = field(default_factory=frozenset)
    deleted: bool = False


def require(state: CategoryState | None, id_key: int) -> CategoryState:
    """The category, unless it does not exist or was deleted (404)."""
    if state is None or state.deleted:
        raise NotFoundError("Category", id_key)
    return state


# --- decide -------------------------------------------------------------------------------


def decide(state: CategoryState | None, command: CategoryCommand) -> list[CategoryEvent]:
    match command:
        case CreateCategory():
            return _create(state, command)
        case ChangeCategory():
            return _change(require(state, command.id_key), command)
        case DeleteCategory():
            return _delete(require(state, command.id_key))
        case AttachProduct():
            return _attach(require(state, command.id_key), command)
        case DetachProduct():
            return _detach(state, command)
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(command)


def _create(state: CategoryState | None, command: CreateCategory) -> list[CategoryEvent]:
    name = validation.text("name", command.name, max_length=NAME_MAX_LENGTH)
    if state is not None:
        raise ConflictError(
            f"Category with id {command.id_key} already exists", code="duplicate_id"
        )
    return [CategoryCreated(command.id_key, name)]


def _change(state: CategoryState, command: ChangeCategory) -> list[CategoryEvent]:
    validation.same_id(command.id_key, command.body_id_key)
    if isinstance(command.name, Unset) or command.name == state.name:
        return []
    name = validation.text("name", command.name, max_length=NAME_MAX_LENGTH)
    return [CategoryRenamed(state.id_key, name, state.name)]


def _delete(state: CategoryState) -> list[CategoryEvent]:
    if state.active_products:
        raise ConflictError(
            f"Category with id {state.id_key} still has "
            f"{len(state.active_products)} active product(s)",
            code="category_has_active_products",
        )
    return [CategoryDeleted(state.id_key, state.name)]


def _attach(state: CategoryState, command: AttachProduct) -> list[CategoryEvent]:
    if command.product_id in state.active_products:
        return []
    return [CategoryProductAttached(state.id_key, command.product_id)]


def _detach(state: CategoryState | None, command: DetachProduct) -> list[CategoryEvent]:
    # A deleted category has no active products, so detaching from it is a no-op.
    if state is None or command.product_id not in state.active_products:
        return []
    return [CategoryProductDetached(command.id_key, command.product_id)]


# --- evolve -------------------------------------------------------------------------------


def evolve(state: CategoryState | None, event: CategoryEvent) -> CategoryState | None:
    match event:
        case CategoryCreated(id_key=id_key, name=name):
            return CategoryState(id_key, name)
        case CategoryRenamed(name=name):
            return replace(existing(state, event), name=name)
        case CategoryDeleted():
            return replace(existing(state, event), deleted=True)
        case CategoryProductAttached(product_id=product_id):
            current = existing(state, event)
            return replace(current, active_products=current.active_products | {product_id})
        case CategoryProductDetached(product_id=product_id):
            current = existing(state, event)
            return replace(current, active_products=current.active_products - {product_id})
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(event)


decider: Decider[CategoryCommand, CategoryEvent, CategoryState | None] = Decider(
    initial_state=None, decide=decide, evolve=evolve
)

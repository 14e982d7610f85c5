"""Category: a uniquely named group of products.

The category stream also records which of its products are active (attached and detached by
the product decisions, in the same append as the product's own events), so "a category with
active products cannot be deleted" is decided from this one stream with full consistency.
"""

from dataclasses import dataclass, field, replace
from typing import ClassVar, TypeAlias, assert_never

from domain import validation
from domain.decider import Decider, existing
from domain.errors import ConflictError, NotFoundError
from domain.patch import UNSET, Unset

NAME_MAX_LENGTH = 100

# --- commands -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateCategory:
    id_key: int
    name: str


@dataclass(frozen=True, slots=True)
class ChangeCategory:
    id_key: int
    name: str | Unset = UNSET
    body_id_key: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteCategory:
    id_key: int


@dataclass(frozen=True, slots=True)
class AttachProduct:
    """Issued by the product decisions when a product becomes active in this category."""

    id_key: int
    product_id: int


@dataclass(frozen=True, slots=True)
class DetachProduct:
    """Issued by the product decisions when a product leaves or is deactivated."""

    id_key: int
    product_id: int


CategoryCommand: TypeAlias = (
    CreateCategory | ChangeCategory | DeleteCategory | AttachProduct | DetachProduct
)

# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryCreated:
    type_name: ClassVar[str] = "CategoryCreated"
    schema_version: ClassVar[int] = 1
    id_key: int
    name: str


@dataclass(frozen=True, slots=True)
class CategoryRenamed:
    type_name: ClassVar[str] = "CategoryRenamed"
    schema_version: ClassVar[int] = 1
    id_key: int
    name: str
    previous_name: str


@dataclass(frozen=True, slots=True)
class CategoryDeleted:
    type_name: ClassVar[str] = "CategoryDeleted"
    schema_version: ClassVar[int] = 1
    id_key: int
    name: str


@dataclass(frozen=True, slots=True)
class CategoryProductAttached:
    type_name: ClassVar[str] = "CategoryProductAttached"
    schema_version: ClassVar[int] = 1
    id_key: int
    product_id: int


@dataclass(frozen=True, slots=True)
class CategoryProductDetached:
    type_name: ClassVar[str] = "CategoryProductDetached"
    schema_version: ClassVar[int] = 1
    id_key: int
    product_id: int


CategoryEvent: TypeAlias = (
    CategoryCreated
    | CategoryRenamed
    | CategoryDeleted
    | CategoryProductAttached
    | CategoryProductDetached
)

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

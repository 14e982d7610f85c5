"""The state and decider of products: see `domain.product`."""

from dataclasses import dataclass
from decimal import Decimal
from typing import assert_never

from domain import validation
from domain.decider import Decider, existing
from domain.errors import ConflictError, InvalidCommandError, NotFoundError, RuleViolationError
from domain.patch import patched
from domain.product._messages import (
    ChangeProduct,
    CreateProduct,
    DeactivateProduct,
    ProductChanged,
    ProductCommand,
    ProductCreated,
    ProductDeactivated,
    ProductEvent,
    ProductMoved,
    ProductReactivated,
    ReleaseStock,
    ReserveStock,
    SellStock,
    StockAdjusted,
    StockReleased,
    StockReserved,
    StockSold,
)
from domain.records import replace

KIND = "product"
NAME_MAX_LENGTH = 200


# --- state --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductState:
    id_key: int
    name: str
    price: Decimal
    stock: int
    category_id: int
    active: bool = True
    reserved: int = 0
    sold: int = 0


def require(state: ProductState | None, id_key: int) -> ProductState:
    """Products are never deleted (only deactivated): absent means never created (404)."""
    if state is None:
        raise NotFoundError("Product", id_key)
    return state


def require_active(state: ProductState | None, id_key: int) -> ProductState:
    product = require(state, id_key)
    if not product.active:
        raise ConflictError(f"Product with id {id_key} is inactive", code="product_inactive")
    return product


# --- decide -------------------------------------------------------------------------------


def decide(state: ProductState | None, command: ProductCommand) -> list[ProductEvent]:
    match command:
        case CreateProduct():
            return _create(state, command)
        case ChangeProduct():
            return _change(require(state, command.id_key), command)
        case DeactivateProduct():
            return _deactivate(require(state, command.id_key))
        case ReserveStock():
            return _reserve(state, command)
        case ReleaseStock() | SellStock():
            return _release_or_sell(state, command)
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(command)


def _create(state: ProductState | None, command: CreateProduct) -> list[ProductEvent]:
    name, price, stock = _name(command.name), _price(command.price), _stock(command.stock)
    category_id = _category_id(command.category_id)
    if state is not None:
        raise ConflictError(f"Product with id {command.id_key} already exists", code="duplicate_id")
    return [ProductCreated(command.id_key, name, price, stock, category_id)]


def _change(state: ProductState, command: ChangeProduct) -> list[ProductEvent]:
    validation.same_id(command.id_key, command.body_id_key)
    changed = _changed(state, command)
    events: list[ProductEvent] = []
    if (changed.name, changed.price) != (state.name, state.price):
        events.append(ProductChanged(state.id_key, changed.name, changed.price))
    if changed.category_id != state.category_id:
        events.append(ProductMoved(state.id_key, changed.category_id, state.category_id))
    if changed.stock != state.stock:
        events.append(StockAdjusted(state.id_key, changed.stock, changed.stock - state.stock))
    if changed.active != state.active:
        kind = ProductReactivated if changed.active else ProductDeactivated
        events.append(kind(state.id_key))
    return events


def _changed(state: ProductState, command: ChangeProduct) -> ProductState:
    """The product as the PUT would leave it, every sent field validated."""
    return replace(
        state,
        name=patched(command.name, state.name, _name),
        price=patched(command.price, state.price, _price),
        stock=patched(command.stock, state.stock, _stock),
        category_id=patched(command.category_id, state.category_id, _category_id),
        active=patched(command.active, state.active, _active),
    )


def _name(name: str) -> str:
    return validation.text("name", name, max_length=NAME_MAX_LENGTH)


def _price(price: Decimal) -> Decimal:
    return validation.money("price", price, allow_zero=False)


def _stock(stock: int) -> int:
    return validation.count("stock", stock, minimum=0)


def _category_id(category_id: int) -> int:
    return validation.required("category_id", category_id)


def _active(active: bool) -> bool:  # noqa: FBT001 -- a field check, not a flag argument
    return validation.required("active", active)


def _deactivate(state: ProductState) -> list[ProductEvent]:
    return [ProductDeactivated(state.id_key)] if state.active else []


def _reserve(state: ProductState | None, command: ReserveStock) -> list[ProductEvent]:
    validation.count("quantity", command.quantity, minimum=1)
    product = require_active(state, command.id_key)
    if product.stock < command.quantity:
        requested = "Requested additional" if command.additional else "Requested"
        raise RuleViolationError(
            f"Insufficient stock for product {product.name}. "
            f"{requested}: {command.quantity}, Available: {product.stock}",
            code="insufficient_stock",
        )
    return [StockReserved(command.id_key, command.order_id, command.line_id, command.quantity)]


def _release_or_sell(
    state: ProductState | None, command: ReleaseStock | SellStock
) -> list[ProductEvent]:
    validation.count("quantity", command.quantity, minimum=1)
    product = require(state, command.id_key)
    if product.reserved < command.quantity:
        # Only reachable if a caller pairs the wrong order with this product: refuse rather
        # than create units out of nothing.
        raise InvalidCommandError(
            "quantity",
            f"Product with id {command.id_key} has only {product.reserved} reserved unit(s)",
            code="not_reserved",
        )
    kind = StockReleased if isinstance(command, ReleaseStock) else StockSold
    return [kind(command.id_key, command.order_id, command.line_id, command.quantity)]


# --- evolve -------------------------------------------------------------------------------


def evolve(state: ProductState | None, event: ProductEvent) -> ProductState | None:
    match event:
        case ProductCreated(id_key=id_key, name=name, price=price, stock=stock):
            return ProductState(id_key, name, price, stock, event.category_id)
        case ProductChanged(name=name, price=price):
            return replace(existing(state, event), name=name, price=price)
        case ProductMoved(category_id=category_id):
            return replace(existing(state, event), category_id=category_id)
        case StockAdjusted(stock=stock):
            return replace(existing(state, event), stock=stock)
        case ProductDeactivated() | ProductReactivated():
            active = isinstance(event, ProductReactivated)
            return replace(existing(state, event), active=active)
        case StockReserved() | StockReleased() | StockSold():
            return _moved_units(existing(state, event), event)
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(event)


def _moved_units(
    state: ProductState, event: StockReserved | StockReleased | StockSold
) -> ProductState:
    """Units only move between available, reserved and sold; their sum never changes here."""
    quantity = event.quantity
    match event:
        case StockReserved():
            return replace(state, stock=state.stock - quantity, reserved=state.reserved + quantity)
        case StockReleased():
            return replace(state, stock=state.stock + quantity, reserved=state.reserved - quantity)
        case StockSold():
            return replace(state, reserved=state.reserved - quantity, sold=state.sold + quantity)
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(event)


decider: Decider[ProductCommand, ProductEvent, ProductState | None] = Decider(
    initial_state=None, decide=decide, evolve=evolve
)

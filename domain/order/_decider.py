"""The state and decider of orders: see `domain.order`."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import assert_never

from domain import validation
from domain.decider import Decider, existing
from domain.enums import DeliveryMethod, Status
from domain.errors import ConflictError, InvalidCommandError, NotFoundError
from domain.order._messages import (
    AddOrderLine,
    ChangeOrder,
    ChangeOrderLine,
    DeleteOrder,
    OrderChanged,
    OrderCommand,
    OrderDeleted,
    OrderEvent,
    OrderLineAdded,
    OrderLineChanged,
    OrderLineRemoved,
    OrderPlaced,
    OrderReassigned,
    OrderStatusChanged,
    PlaceOrder,
    RemoveOrderLine,
)
from domain.patch import UNSET, patched
from domain.records import replace

KIND = "order"
OPEN = frozenset({Status.PENDING, Status.IN_PROGRESS})
FORWARD = {
    Status.PENDING: frozenset({Status.IN_PROGRESS, Status.DELIVERED, Status.CANCELED}),
    Status.IN_PROGRESS: frozenset({Status.DELIVERED, Status.CANCELED}),
    Status.DELIVERED: frozenset[Status](),
    Status.CANCELED: frozenset[Status](),
}


# --- state --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderLine:
    id_key: int
    product_id: int
    quantity: int
    price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.quantity * self.price


@dataclass(frozen=True, slots=True)
class OrderState:
    id_key: int
    date: dt.datetime
    delivery_method: DeliveryMethod
    status: Status
    client_id: int
    bill_id: int
    lines: tuple[OrderLine, ...] = ()
    deleted: bool = False

    @property
    def total(self) -> Decimal:
        # Prices are whole cents, so the sum is exact and already in cents.
        return sum((line.amount for line in self.lines), Decimal("0.00"))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN

    def line(self, id_key: int) -> OrderLine | None:
        return next((line for line in self.lines if line.id_key == id_key), None)


def require(state: OrderState | None, id_key: int) -> OrderState:
    if state is None or state.deleted:
        raise NotFoundError("Order", id_key)
    return state


def require_open(state: OrderState | None, id_key: int) -> OrderState:
    order = require(state, id_key)
    if not order.is_open:
        raise ConflictError(
            f"Order with id {id_key} is {order.status.name} and can no longer change",
            code="order_final",
        )
    return order


def require_line(state: OrderState | None, line_id: int) -> tuple[OrderState, OrderLine]:
    """The order holding line `line_id` (as located by the store) and the line."""
    line = None if state is None or state.deleted else state.line(line_id)
    if state is None or line is None:
        raise NotFoundError("OrderDetail", line_id)
    return state, line


# --- decide -------------------------------------------------------------------------------


def decide(state: OrderState | None, command: OrderCommand) -> list[OrderEvent]:
    match command:
        case PlaceOrder():
            return _place(state, command)
        case ChangeOrder():
            return _change(require(state, command.id_key), command)
        case DeleteOrder():
            return _delete(require(state, command.id_key))
        case AddOrderLine():
            return _add_line(state, command)
        case ChangeOrderLine():
            return _change_line(state, command)
        case RemoveOrderLine():
            order, line = require_line(state, command.id_key)
            require_open(order, order.id_key)
            return [OrderLineRemoved(line.id_key, order.id_key)]
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(command)


def _delivery(method: DeliveryMethod) -> DeliveryMethod:
    return validation.member("delivery_method", DeliveryMethod, method)


def _status(status: Status) -> Status:
    return validation.member("status", Status, status)


def _date(date: dt.datetime) -> dt.datetime:
    return validation.required("date", date)


def _reference(field: str) -> Callable[[int], int]:
    return lambda value: validation.required(field, value)


def _place(state: OrderState | None, command: PlaceOrder) -> list[OrderEvent]:
    date, method = _date(command.date), _delivery(command.delivery_method)
    status = _status(command.status)
    client_id = _reference("client_id")(command.client_id)
    bill_id = _reference("bill_id")(command.bill_id)
    if state is not None:
        raise ConflictError(f"Order with id {command.id_key} already exists", code="duplicate_id")
    return [OrderPlaced(command.id_key, date, method, status, client_id, bill_id)]


def changed_order(state: OrderState, command: ChangeOrder) -> OrderState:
    """The order as the PUT would leave it (lines aside), every sent field validated."""
    validation.same_id(command.id_key, command.body_id_key)
    return replace(
        state,
        date=patched(command.date, state.date, _date),
        delivery_method=patched(command.delivery_method, state.delivery_method, _delivery),
        status=patched(command.status, state.status, _status),
        client_id=patched(command.client_id, state.client_id, _reference("client_id")),
        bill_id=patched(command.bill_id, state.bill_id, _reference("bill_id")),
    )


def _change(state: OrderState, command: ChangeOrder) -> list[OrderEvent]:
    changed = changed_order(state, command)
    if changed == state:
        return []
    require_open(state, state.id_key)
    events: list[OrderEvent] = []
    if (changed.date, changed.delivery_method) != (state.date, state.delivery_method):
        events.append(OrderChanged(state.id_key, changed.date, changed.delivery_method))
    if (changed.client_id, changed.bill_id) != (state.client_id, state.bill_id):
        ids = (changed.client_id, changed.bill_id, state.client_id, state.bill_id)
        events.append(OrderReassigned(state.id_key, *ids))
    if changed.status != state.status:
        events.append(_status_change(state, changed.status))
    return events


def _status_change(state: OrderState, status: Status) -> OrderStatusChanged:
    if status not in FORWARD[state.status]:
        raise ConflictError(
            f"Order with id {state.id_key} cannot go from {state.status.name} to {status.name}",
            code="invalid_status_transition",
        )
    return OrderStatusChanged(state.id_key, status, state.status)


def _delete(state: OrderState) -> list[OrderEvent]:
    if state.status is Status.DELIVERED:
        raise ConflictError(
            f"Order with id {state.id_key} is DELIVERED and cannot be deleted",
            code="order_final",
        )
    cancel: list[OrderEvent] = [_status_change(state, Status.CANCELED)] if state.is_open else []
    return [*cancel, OrderDeleted(state.id_key, tuple(line.id_key for line in state.lines))]


def line_fields(quantity: int, price: Decimal | None) -> tuple[int, Decimal | None]:
    """The line's quantity and (possibly still unresolved) price, validated."""
    valid_quantity = validation.count("quantity", quantity, minimum=1)
    if price is None:
        return valid_quantity, None
    return valid_quantity, validation.money("price", price, allow_zero=False)


def _resolved(price: Decimal | None) -> Decimal:
    if price is None:
        # decisions.add_order_line / change_order_line fill it from the product first.
        raise InvalidCommandError("price", "price must be resolved from the product")
    return price


def _add_line(state: OrderState | None, command: AddOrderLine) -> list[OrderEvent]:
    quantity, price = line_fields(command.quantity, command.price)
    product_id = _reference("product_id")(command.product_id)
    order = require_open(state, command.order_id)
    if order.line(command.id_key) is not None:
        raise ConflictError(
            f"OrderDetail with id {command.id_key} already exists", code="duplicate_id"
        )
    line = (command.id_key, order.id_key, product_id, quantity, _resolved(price))
    return [OrderLineAdded(*line)]


def _change_line(state: OrderState | None, command: ChangeOrderLine) -> list[OrderEvent]:
    validation.same_id(command.id_key, command.body_id_key)
    order, line = require_line(state, command.id_key)
    if command.order_id not in (UNSET, order.id_key):
        raise InvalidCommandError(
            "order_id", "moving a line to another order is decided on both orders"
        )
    quantity, price = line_fields(
        patched(command.quantity, line.quantity, lambda v: v),
        patched(command.price, line.price, lambda v: v),
    )
    product_id = patched(command.product_id, line.product_id, _reference("product_id"))
    changed = OrderLine(line.id_key, product_id, quantity, _resolved(price))
    require_open(order, order.id_key)
    if changed == line:
        return []
    return [OrderLineChanged(line.id_key, order.id_key, product_id, quantity, changed.price)]


# --- evolve -------------------------------------------------------------------------------


def evolve(state: OrderState | None, event: OrderEvent) -> OrderState | None:
    match event:
        case OrderPlaced(id_key=id_key, date=date, delivery_method=method, status=status):
            return OrderState(id_key, date, method, status, event.client_id, event.bill_id)
        case OrderChanged(date=date, delivery_method=method):
            return replace(existing(state, event), date=date, delivery_method=method)
        case OrderReassigned(client_id=client_id, bill_id=bill_id):
            return replace(existing(state, event), client_id=client_id, bill_id=bill_id)
        case OrderStatusChanged(status=status):
            return replace(existing(state, event), status=status)
        case OrderDeleted():
            return replace(existing(state, event), deleted=True)
        case OrderLineAdded() | OrderLineChanged() | OrderLineRemoved():
            return _with_line(existing(state, event), event)
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(event)


def _with_line(
    state: OrderState, event: OrderLineAdded | OrderLineChanged | OrderLineRemoved
) -> OrderState:
    lines = [kept for kept in state.lines if kept.id_key != event.id_key]
    if not isinstance(event, OrderLineRemoved):
        lines.append(OrderLine(event.id_key, event.product_id, event.quantity, event.price))
    return replace(state, lines=tuple(sorted(lines, key=lambda line: line.id_key)))


decider: Decider[OrderCommand, OrderEvent, OrderState | None] = Decider(
    initial_state=None, decide=decide, evolve=evolve
)

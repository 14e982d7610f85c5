"""The state and decider of bills: see `domain.bill`."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import assert_never

from domain import validation
from domain.bill._messages import (
    AssignBill,
    BillAssigned,
    BillChanged,
    BillCommand,
    BillCreated,
    BillDeleted,
    BillEvent,
    BillNumberChanged,
    BillReleased,
    ChangeBill,
    CreateBill,
    DeleteBill,
    ReleaseBill,
)
from domain.decider import Decider, existing
from domain.enums import PaymentType
from domain.errors import ConflictError, InvalidCommandError, NotFoundError
from domain.patch import patched
from domain.records import replace

KIND = "bill"
NUMBER_MAX_LENGTH = 50

# --- state --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillState:
    id_key: int
    bill_number: str
    discount: Decimal | None
    date: dt.date
    total: Decimal
    payment_type: PaymentType
    client_id: int
    order_id: int | None = None
    deleted: bool = False


def require(state: BillState | None, id_key: int) -> BillState:
    if state is None or state.deleted:
        raise NotFoundError("Bill", id_key)
    return state


# --- decide -------------------------------------------------------------------------------


def decide(state: BillState | None, command: BillCommand) -> list[BillEvent]:
    match command:
        case CreateBill():
            return _create(state, command)
        case ChangeBill():
            return _change(require(state, command.id_key), command)
        case DeleteBill():
            bill = _unassigned(require(state, command.id_key), "deleted")
            return [BillDeleted(bill.id_key, bill.bill_number)]
        case AssignBill():
            return _assign(require(state, command.id_key), command)
        case ReleaseBill(id_key=id_key, order_id=order_id):
            backs_it = state is not None and state.order_id == order_id
            return [BillReleased(id_key, order_id)] if backs_it else []
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(command)


def _number(bill_number: str) -> str:
    return validation.text("bill_number", bill_number, max_length=NUMBER_MAX_LENGTH)


def _discount(discount: Decimal | None) -> Decimal | None:
    return None if discount is None else validation.money("discount", discount, allow_zero=True)


def _total(total: Decimal) -> Decimal:
    return validation.money("total", total, allow_zero=True)


def _payment_type(payment_type: PaymentType) -> PaymentType:
    return validation.member("payment_type", PaymentType, payment_type)


def _date(date: dt.date) -> dt.date:
    return validation.required("date", date)


def _client_id(client_id: int) -> int:
    return validation.required("client_id", client_id)


def _discount_within_total(discount: Decimal | None, total: Decimal) -> None:
    if discount is not None and discount > total:
        raise InvalidCommandError(
            "discount", f"discount ({discount}) must not exceed total ({total})"
        )


def _create(state: BillState | None, command: CreateBill) -> list[BillEvent]:
    number, discount, total = (
        _number(command.bill_number),
        _discount(command.discount),
        _total(command.total),
    )
    date, payment_type = _date(command.date), _payment_type(command.payment_type)
    client_id = _client_id(command.client_id)
    _discount_within_total(discount, total)
    if state is not None:
        raise ConflictError(f"Bill with id {command.id_key} already exists", code="duplicate_id")
    return [BillCreated(command.id_key, number, discount, date, total, payment_type, client_id)]


def _change(state: BillState, command: ChangeBill) -> list[BillEvent]:
    validation.same_id(command.id_key, command.body_id_key)
    changed = _changed(state, command)
    _discount_within_total(changed.discount, changed.total)
    if changed.client_id != state.client_id:
        _unassigned(state, "moved to another client")
    events: list[BillEvent] = []
    if changed.bill_number != state.bill_number:
        events.append(BillNumberChanged(state.id_key, changed.bill_number, state.bill_number))
    if replace(changed, bill_number=state.bill_number) != state:
        fields = (changed.discount, changed.date, changed.total, changed.payment_type)
        events.append(BillChanged(state.id_key, *fields, changed.client_id))
    return events


def _changed(state: BillState, command: ChangeBill) -> BillState:
    """The bill as the PUT would leave it, every sent field validated."""
    return replace(
        state,
        bill_number=patched(command.bill_number, state.bill_number, _number),
        discount=patched(command.discount, state.discount, _discount),
        date=patched(command.date, state.date, _date),
        total=patched(command.total, state.total, _total),
        payment_type=patched(command.payment_type, state.payment_type, _payment_type),
        client_id=patched(command.client_id, state.client_id, _client_id),
    )


def _unassigned(state: BillState, what: str) -> BillState:
    if state.order_id is not None:
        raise ConflictError(
            f"Bill with id {state.id_key} backs order {state.order_id} and cannot be {what}",
            code="bill_in_use",
        )
    return state


def _assign(state: BillState, command: AssignBill) -> list[BillEvent]:
    if state.client_id != command.client_id:
        raise ConflictError(
            f"Bill with id {state.id_key} belongs to another client",
            code="bill_of_another_client",
        )
    if state.order_id == command.order_id:
        return []
    _unassigned(state, f"assigned to order {command.order_id}")
    return [BillAssigned(state.id_key, command.order_id)]


# --- evolve -------------------------------------------------------------------------------


def evolve(state: BillState | None, event: BillEvent) -> BillState | None:
    match event:
        case BillCreated():
            fields = (event.bill_number, event.discount, event.date, event.total)
            return BillState(event.id_key, *fields, event.payment_type, event.client_id)
        case BillChanged(discount=discount, date=date, total=total):
            current = existing(state, event)
            return replace(
                current,
                discount=discount,
                date=date,
                total=total,
                payment_type=event.payment_type,
                client_id=event.client_id,
            )
        case BillNumberChanged(bill_number=bill_number):
            return replace(existing(state, event), bill_number=bill_number)
        case BillDeleted():
            return replace(existing(state, event), deleted=True)
        case BillAssigned(order_id=order_id):
            return replace(existing(state, event), order_id=order_id)
        case BillReleased():
            return replace(existing(state, event), order_id=None)
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(event)


decider: Decider[BillCommand, BillEvent, BillState | None] = Decider(
    initial_state=None, decide=decide, evolve=evolve
)

"""Bills: unique numbers, discount within total, and the one order a bill backs."""

import datetime as dt
from decimal import Decimal

import pytest

from domain import bill
from domain.bill import (
    AssignBill,
    BillAssigned,
    BillChanged,
    BillCreated,
    BillDeleted,
    BillNumberChanged,
    ChangeBill,
    CreateBill,
    DeleteBill,
    ReleaseBill,
    bill_number_claim,
)
from domain.client import CreateClient
from domain.enums import DeliveryMethod, PaymentType
from domain.errors import ConflictError, InvalidCommandError, NotFoundError
from domain.order import PlaceOrder
from tests.strategies import T0, World, decide_all, refusal

DAY = dt.date(2024, 3, 1)


def new_bill(
    id_key: int = 1, number: str = "B-1", total: str = "100", discount: str | None = "10"
) -> CreateBill:
    return CreateBill(
        id_key,
        number,
        DAY,
        Decimal(total),
        PaymentType.CARD,
        1,
        None if discount is None else Decimal(discount),
    )


def billing() -> World:
    return World().given(CreateClient(1, "Ada"), CreateClient(2, "Grace"), new_bill())


CREATED = BillCreated(1, "B-1", Decimal("10.00"), DAY, Decimal("100.00"), PaymentType.CARD, 1)


def test_a_bill_is_created_and_claims_its_number() -> None:
    world = World().given(CreateClient(1))

    assert world.handle(new_bill()) == {"bill-1": [CREATED]}
    assert world.claims[bill_number_claim("B-1")] == "bill-1"


def test_a_bill_number_is_unique() -> None:
    refused = refusal(billing(), new_bill(2))

    assert refused.code == "duplicate_bill_number"
    assert str(refused) == "Bill with number B-1 already exists"


def test_a_bill_of_a_missing_client_is_not_found() -> None:
    assert str(refusal(World(), new_bill())) == "Client with id 1 not found"


@pytest.mark.parametrize("discount", ["100.01", "-0.01"])
def test_a_discount_must_be_between_zero_and_the_total(discount: str) -> None:
    refused = refusal(billing(), new_bill(2, "B-2", discount=discount))

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == "discount"


@pytest.mark.parametrize("discount", ["100", "0", None])
def test_a_discount_may_equal_the_total_be_zero_or_be_absent(discount: str | None) -> None:
    billing().handle(new_bill(2, "B-2", discount=discount))


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (new_bill(2, ""), "bill_number"),
        (new_bill(2, "n" * 51), "bill_number"),
        (new_bill(2, "B-2", total="-1", discount=None), "total"),
        (CreateBill(2, "B-2", DAY, Decimal(1), 9, 1), "payment_type"),  # type: ignore[arg-type]
        (CreateBill(2, "B-2", None, Decimal(1), PaymentType.CASH, 1), "date"),  # type: ignore[arg-type]
    ],
)
def test_invalid_bill_fields_are_refused(command: CreateBill, field: str) -> None:
    refused = refusal(billing(), command)

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == field


def test_a_bill_id_cannot_be_created_twice() -> None:
    assert refusal(billing(), new_bill(1, "B-9")).code == "duplicate_id"


def test_a_new_number_swaps_the_claims() -> None:
    world = billing()

    events = world.handle(ChangeBill(1, bill_number="B-100"))

    assert events == {"bill-1": [BillNumberChanged(1, "B-100", "B-1")]}
    world.handle(new_bill(2, "B-1"))


def test_other_fields_change_in_one_event() -> None:
    events = billing().handle(ChangeBill(1, total=Decimal(50), discount=None))

    assert events == {"bill-1": [BillChanged(1, None, DAY, Decimal("50.00"), PaymentType.CARD, 1)]}


def test_a_change_keeps_the_discount_within_the_total() -> None:
    refused = refusal(billing(), ChangeBill(1, total=Decimal(5)))

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == "discount"


def test_a_free_bill_may_move_to_an_existing_client() -> None:
    world = billing()

    assert str(refusal(world, ChangeBill(1, client_id=9))) == "Client with id 9 not found"
    world.handle(ChangeBill(1, client_id=2))
    assert world.state("bill-1").client_id == 2


def test_a_bill_backing_an_order_cannot_move_to_another_client() -> None:
    world = billing().given(PlaceOrder(1, T0, DeliveryMethod.ON_HAND, 1, 1))

    assert refusal(world, ChangeBill(1, client_id=2)).code == "bill_in_use"
    world.handle(ChangeBill(1, payment_type=PaymentType.CASH))


def test_a_bill_is_deleted_and_its_number_freed() -> None:
    world = billing()

    assert world.handle(DeleteBill(1)) == {"bill-1": [BillDeleted(1, "B-1")]}
    assert str(refusal(world, ChangeBill(1, total=Decimal(1)))) == "Bill with id 1 not found"
    world.handle(new_bill(2, "B-1"))


def test_a_bill_backing_an_order_cannot_be_deleted() -> None:
    world = billing().given(PlaceOrder(1, T0, DeliveryMethod.ON_HAND, 1, 1))

    refused = refusal(world, DeleteBill(1))

    assert refused.code == "bill_in_use"
    assert str(refused) == "Bill with id 1 backs order 1 and cannot be deleted"


def test_assigning_is_idempotent_for_the_same_order_and_refused_for_another() -> None:
    given = [CREATED, BillAssigned(1, 5)]

    assert decide_all(bill.decider, given, AssignBill(1, 5, 1)) == []
    with pytest.raises(ConflictError):
        decide_all(bill.decider, given, AssignBill(1, 6, 1))


def test_releasing_only_frees_the_order_it_backs() -> None:
    given = [CREATED, BillAssigned(1, 5)]

    assert decide_all(bill.decider, given, ReleaseBill(1, 6)) == []
    assert decide_all(bill.decider, [], ReleaseBill(1, 6)) == []
    assert len(decide_all(bill.decider, given, ReleaseBill(1, 5))) == 1


def test_a_missing_bill_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        decide_all(bill.decider, [], DeleteBill(1))

"""Orders: their client and bill, their status, and what status changes do to stock."""

import datetime as dt
from decimal import Decimal

import pytest

from domain import order
from domain.bill import BillAssigned, BillReleased, CreateBill
from domain.client import CreateClient, DeleteClient
from domain.enums import DeliveryMethod, PaymentType, Status
from domain.errors import ConflictError, InvalidCommandError, NotFoundError
from domain.order import (
    AddOrderLine,
    ChangeOrder,
    DeleteOrder,
    OrderChanged,
    OrderDeleted,
    OrderPlaced,
    OrderReassigned,
    OrderStatusChanged,
    PlaceOrder,
    order_detail_locator,
)
from domain.product import CreateProduct, StockReleased, StockSold
from tests.strategies import CATEGORY_ID, CLIENT_ID, T0, World, decide_all, refusal, shop

OTHER_CLIENT = 2


def place(order_id: int = 1, bill_id: int = 1, client_id: int = CLIENT_ID) -> PlaceOrder:
    return PlaceOrder(order_id, T0, DeliveryMethod.HOME_DELIVERY, client_id, bill_id)


def shop_with_lines() -> World:
    """Order 1 with lines 1 (2 x product 1), 2 (1 x product 2) and 3 (3 x product 1)."""
    world = shop().given(
        CreateProduct(1, "Laptop", Decimal("999.99"), CATEGORY_ID, 10),
        CreateProduct(2, "Mouse", Decimal("19.99"), CATEGORY_ID, 10),
        place(),
    )
    return world.given(AddOrderLine(1, 1, 1, 2), AddOrderLine(2, 1, 2, 1), AddOrderLine(3, 1, 1, 3))


def test_an_order_is_placed_pending_and_takes_its_bill() -> None:
    world = shop()

    events = world.handle(place())

    assert events == {
        "order-1": [OrderPlaced(1, T0, DeliveryMethod.HOME_DELIVERY, Status.PENDING, CLIENT_ID, 1)],
        "bill-1": [BillAssigned(1, 1)],
    }
    assert world.state("bill-1").order_id == 1


def test_an_order_for_a_missing_or_deleted_client_is_not_found() -> None:
    world = shop()

    assert str(refusal(world, place(client_id=9))) == "Client with id 9 not found"
    world.handle(DeleteClient(CLIENT_ID))
    assert str(refusal(world, place())) == "Client with id 1 not found"


def test_an_order_with_a_missing_bill_is_not_found() -> None:
    assert str(refusal(shop(), place(bill_id=9))) == "Bill with id 9 not found"


def test_the_client_is_checked_before_the_bill() -> None:
    assert str(refusal(shop(), place(bill_id=9, client_id=9))) == "Client with id 9 not found"


def test_a_bill_of_another_client_cannot_back_the_order() -> None:
    world = shop().given(CreateClient(OTHER_CLIENT, "Jane"))

    assert refusal(world, place(1, 1, OTHER_CLIENT)).code == "bill_of_another_client"


def test_a_bill_backs_one_order_only() -> None:
    world = shop().given(place(1, 1))

    assert refusal(world, place(2, 1)).code == "bill_in_use"


def test_an_order_id_cannot_be_placed_twice() -> None:
    world = shop().given(place(1, 1))

    assert refusal(world, place(1, 2)).code == "duplicate_id"


@pytest.mark.parametrize(
    ("path", "end"),
    [
        ([Status.IN_PROGRESS], Status.IN_PROGRESS),
        ([Status.IN_PROGRESS, Status.DELIVERED], Status.DELIVERED),
        ([Status.DELIVERED], Status.DELIVERED),
        ([Status.CANCELED], Status.CANCELED),
        ([Status.IN_PROGRESS, Status.CANCELED], Status.CANCELED),
    ],
)
def test_status_moves_only_forward_and_may_skip_steps(path: list[Status], end: Status) -> None:
    world = shop().given(place())

    for status in path:
        world.handle(ChangeOrder(1, status=status))

    assert world.state("order-1").status is end


@pytest.mark.parametrize(
    ("start", "back"),
    [
        (Status.IN_PROGRESS, Status.PENDING),
        (Status.DELIVERED, Status.IN_PROGRESS),
        (Status.DELIVERED, Status.PENDING),
    ],
)
def test_status_never_moves_backward(start: Status, back: Status) -> None:
    world = shop().given(place(), ChangeOrder(1, status=start))

    assert isinstance(refusal(world, ChangeOrder(1, status=back)), ConflictError)


def test_a_delivered_order_cannot_be_cancelled() -> None:
    world = shop().given(place(), ChangeOrder(1, status=Status.DELIVERED))

    assert refusal(world, ChangeOrder(1, status=Status.CANCELED)).code == "order_final"


@pytest.mark.parametrize("status", list(Status))
def test_a_cancelled_order_is_final(status: Status) -> None:
    world = shop().given(place(), ChangeOrder(1, status=Status.CANCELED))

    if status is Status.CANCELED:
        assert world.handle(ChangeOrder(1, status=status)) == {}
    else:
        assert refusal(world, ChangeOrder(1, status=status)).code == "order_final"


def test_a_final_order_accepts_a_put_that_changes_nothing_and_refuses_any_other() -> None:
    world = shop().given(place(), ChangeOrder(1, status=Status.DELIVERED))

    assert world.handle(ChangeOrder(1, delivery_method=DeliveryMethod.HOME_DELIVERY)) == {}
    refused = refusal(world, ChangeOrder(1, delivery_method=DeliveryMethod.ON_HAND))
    assert str(refused) == "Order with id 1 is DELIVERED and can no longer change"


def test_cancelling_releases_the_stock_of_every_line() -> None:
    world = shop_with_lines()

    events = world.handle(ChangeOrder(1, status=Status.CANCELED))

    assert events == {
        "order-1": [OrderStatusChanged(1, Status.CANCELED, Status.PENDING)],
        "product-1": [StockReleased(1, 1, 1, 2), StockReleased(1, 1, 3, 3)],
        "product-2": [StockReleased(2, 1, 2, 1)],
    }
    assert world.state("product-1").stock == 10
    assert world.state("product-2").stock == 10


def test_delivering_turns_reserved_units_into_sold_units() -> None:
    world = shop_with_lines()

    events = world.handle(ChangeOrder(1, status=Status.DELIVERED))

    assert events["product-1"] == [StockSold(1, 1, 1, 2), StockSold(1, 1, 3, 3)]
    laptop = world.state("product-1")
    assert (laptop.stock, laptop.reserved, laptop.sold) == (5, 0, 5)


def test_deleting_an_open_order_cancels_it_releases_its_stock_and_frees_its_bill() -> None:
    world = shop_with_lines()

    events = world.handle(DeleteOrder(1))

    assert events == {
        "order-1": [
            OrderStatusChanged(1, Status.CANCELED, Status.PENDING),
            OrderDeleted(1, (1, 2, 3)),
        ],
        "product-1": [StockReleased(1, 1, 1, 2), StockReleased(1, 1, 3, 3)],
        "product-2": [StockReleased(2, 1, 2, 1)],
        "bill-1": [BillReleased(1, 1)],
    }
    assert order_detail_locator(1) not in world.claims
    assert str(refusal(world, ChangeOrder(1, status=Status.IN_PROGRESS))) == (
        "Order with id 1 not found"
    )
    world.handle(place(2, 1))  # the bill is free again


def test_a_delivered_order_cannot_be_deleted() -> None:
    world = shop_with_lines().given(ChangeOrder(1, status=Status.DELIVERED))

    assert refusal(world, DeleteOrder(1)).code == "order_final"


def test_a_cancelled_order_is_deleted_without_touching_stock_again() -> None:
    world = shop_with_lines().given(ChangeOrder(1, status=Status.CANCELED))

    events = world.handle(DeleteOrder(1))

    assert events == {"order-1": [OrderDeleted(1, (1, 2, 3))], "bill-1": [BillReleased(1, 1)]}


def test_a_missing_order_cannot_be_deleted() -> None:
    assert str(refusal(shop(), DeleteOrder(4))) == "Order with id 4 not found"


def test_changing_the_bill_moves_the_assignment() -> None:
    world = shop().given(place())

    events = world.handle(ChangeOrder(1, bill_id=2))

    assert events == {
        "order-1": [OrderReassigned(1, CLIENT_ID, 2, CLIENT_ID, 1)],
        "bill-2": [BillAssigned(2, 1)],
        "bill-1": [BillReleased(1, 1)],
    }


def test_changing_the_client_needs_a_bill_of_that_client() -> None:
    world = shop().given(place(), CreateClient(OTHER_CLIENT, "Jane"))
    world.handle(CreateBill(7, "JANE-7", T0.date(), Decimal(1), PaymentType.CASH, OTHER_CLIENT))

    assert refusal(world, ChangeOrder(1, client_id=OTHER_CLIENT)).code == "bill_of_another_client"
    events = world.handle(ChangeOrder(1, client_id=OTHER_CLIENT, bill_id=7))
    assert events["order-1"] == [OrderReassigned(1, OTHER_CLIENT, 7, CLIENT_ID, 1)]


def test_changing_to_a_missing_client_or_bill_is_not_found() -> None:
    world = shop().given(place())

    assert str(refusal(world, ChangeOrder(1, client_id=8))) == "Client with id 8 not found"
    assert str(refusal(world, ChangeOrder(1, bill_id=8))) == "Bill with id 8 not found"


def test_changing_to_a_bill_backing_another_order_is_a_conflict() -> None:
    world = shop().given(place(1, 1), place(2, 2))

    assert refusal(world, ChangeOrder(1, bill_id=2)).code == "bill_in_use"


def test_date_and_delivery_method_change() -> None:
    later = T0 + dt.timedelta(days=1)
    world = shop().given(place())

    events = world.handle(ChangeOrder(1, date=later, delivery_method=DeliveryMethod.ON_HAND))

    assert events == {"order-1": [OrderChanged(1, later, DeliveryMethod.ON_HAND)]}


def test_an_order_may_be_placed_in_any_status() -> None:
    world = shop()

    world.handle(PlaceOrder(1, T0, DeliveryMethod.ON_HAND, CLIENT_ID, 1, Status.DELIVERED))

    assert world.state("order-1").status is Status.DELIVERED


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (PlaceOrder(2, T0, 7, CLIENT_ID, 1), "delivery_method"),  # type: ignore[arg-type]
        (PlaceOrder(2, T0, DeliveryMethod.ON_HAND, CLIENT_ID, 1, 0), "status"),  # type: ignore[arg-type]
        (PlaceOrder(2, None, DeliveryMethod.ON_HAND, CLIENT_ID, 1), "date"),  # type: ignore[arg-type]
        (PlaceOrder(2, T0, DeliveryMethod.ON_HAND, None, 1), "client_id"),  # type: ignore[arg-type]
        (PlaceOrder(2, T0, DeliveryMethod.ON_HAND, CLIENT_ID, None), "bill_id"),  # type: ignore[arg-type]
        (ChangeOrder(1, status=None), "status"),  # type: ignore[arg-type]
        (ChangeOrder(1, bill_id=2, body_id_key=3), "id_key"),
    ],
)
def test_invalid_order_fields_are_refused(command: object, field: str) -> None:
    world = shop().given(place(1, 3))

    refused = refusal(world, command)

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == field


def test_the_total_is_the_sum_of_the_lines() -> None:
    world = shop_with_lines()

    assert world.state("order-1").total == Decimal("5019.94")


def test_the_order_decider_alone_refuses_to_change_a_missing_order() -> None:
    with pytest.raises(NotFoundError):
        decide_all(order.decider, [], ChangeOrder(1, status=Status.DELIVERED))

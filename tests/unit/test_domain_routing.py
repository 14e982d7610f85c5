"""The generic entry point: primary stream, streams read, and routing to each decision."""

from decimal import Decimal
from typing import Any

import pytest

from domain import bill, catalogue, category, client, order, product, review
from domain.client import address_locator
from domain.enums import DeliveryMethod, PaymentType, Status
from domain.errors import InvalidCommandError
from domain.order import order_detail_locator
from tests.strategies import CATEGORY_ID, T0, market

MOVED_LINE = order.ChangeOrderLine(1, order_id=2, product_id=3)


@pytest.mark.parametrize(
    ("command", "target"),
    [
        (category.ChangeCategory(1), "category-1"),
        (product.DeactivateProduct(2), "product-2"),
        (client.DeleteClient(3), "client-3"),
        (client.AddAddress(9, 3), "client-3"),
        (client.ChangeAddress(9), address_locator(9)),
        (client.RemoveAddress(9), address_locator(9)),
        (bill.DeleteBill(4), "bill-4"),
        (order.DeleteOrder(5), "order-5"),
        (order.AddOrderLine(9, 5, 1, 1), "order-5"),
        (order.ChangeOrderLine(9), order_detail_locator(9)),
        (order.RemoveOrderLine(9), order_detail_locator(9)),
        (review.DeleteReview(6), "review-6"),
    ],
)
def test_a_command_names_its_primary_stream_or_the_locator_to_it(command: Any, target: Any) -> None:
    assert catalogue.primary(command) == target


@pytest.mark.parametrize(
    ("command", "own_stream"),
    [
        (category.ChangeCategory(1), "category-1"),
        (client.DeleteClient(3), "client-3"),
        (client.AddAddress(9, 3), None),
        (client.ChangeAddress(9), None),
        (order.AddOrderLine(9, 5, 1, 1), None),
        (order.RemoveOrderLine(9), None),
        (review.DeleteReview(6), "review-6"),
    ],
)
def test_only_an_entitys_own_commands_are_decided_on_the_stream_its_id_names(
    command: Any, own_stream: str | None
) -> None:
    assert catalogue.spec_of(command).own is (own_stream is not None)
    if own_stream is not None:
        assert catalogue.primary(command) == own_stream


def test_a_sub_entity_without_its_holders_id_is_invalid() -> None:
    with pytest.raises(InvalidCommandError):
        catalogue.primary(client.AddAddress(9, None))  # type: ignore[arg-type]


def test_the_streams_a_decision_reads_follow_from_the_command_and_its_state() -> None:
    world = market()
    order_1 = world.state("order-1")
    product_1 = world.state("product-1")

    assert catalogue.reads(order.DeleteOrder(1), order_1) == {"bill-1", "product-1"}
    assert catalogue.reads(order.ChangeOrder(1, status=Status.CANCELED), order_1) == {"product-1"}
    assert catalogue.reads(order.ChangeOrder(1, client_id=2), order_1) == {"client-2", "bill-1"}
    assert catalogue.reads(order.ChangeOrder(1, bill_id=4), order_1) == {"bill-1", "bill-4"}
    assert catalogue.reads(order.ChangeOrder(1, date=T0), order_1) == set()
    assert catalogue.reads(MOVED_LINE, order_1, "order-1") == {"product-1", "product-3", "order-2"}
    assert catalogue.reads(order.ChangeOrderLine(1, order_id=1), order_1, "order-1") == {
        "product-1"
    }
    address = client.ChangeAddress(9, client_id=1)
    assert catalogue.reads(address, world.state("client-1"), "client-1") == set()
    assert catalogue.reads(address, None) == {"client-1"}
    assert catalogue.reads(order.RemoveOrderLine(1), order_1, "order-1") == {"product-1"}
    assert catalogue.reads(product.ChangeProduct(1, category_id=2), product_1) == {
        "category-1",
        "category-2",
    }
    assert catalogue.reads(product.DeactivateProduct(1), product_1) == {"category-1"}


def test_missing_primary_states_read_nothing_more() -> None:
    for command in (
        order.DeleteOrder(1),
        order.ChangeOrder(1, bill_id=2),
        order.RemoveOrderLine(1),
        order.ChangeOrderLine(1),
        product.DeactivateProduct(1),
        category.DeleteCategory(1),
    ):
        assert catalogue.reads(command, None) == set()


def test_a_decision_refuses_to_guess_a_state_it_was_not_given() -> None:
    world = market()

    with pytest.raises(LookupError, match="product-1"):
        catalogue.decide(order.ChangeOrder(1, status=Status.CANCELED), world.state("order-1"), {})
    with pytest.raises(LookupError, match="category-1"):
        catalogue.decide(product.CreateProduct(9, "x", Decimal(1), CATEGORY_ID), None, {})


EVERY_EDGE_COMMAND: list[Any] = [
    category.CreateCategory(2, "Books"),
    category.DeleteCategory(2),
    product.CreateProduct(4, "Pen", Decimal(1), CATEGORY_ID),
    product.ChangeProduct(4, name="Quill"),
    product.DeactivateProduct(4),
    client.CreateClient(2, email="g@h.io"),
    client.ChangeClient(2, name="Grace"),
    client.AddAddress(1, 2, "Elm"),
    client.ChangeAddress(1, client_id=1),
    client.RemoveAddress(1),
    client.DeleteClient(2),
    bill.CreateBill(6, "B-6", T0.date(), Decimal(1), PaymentType.DEBIT, 1),
    bill.ChangeBill(6, total=Decimal(2)),
    bill.DeleteBill(6),
    order.PlaceOrder(4, T0, DeliveryMethod.DRIVE_THRU, 1, 4),
    order.AddOrderLine(4, 4, 1, 1),
    order.ChangeOrderLine(4, quantity=2),
    order.RemoveOrderLine(4),
    order.DeleteOrder(4),
    review.CreateReview(1, 1, 3.0),
    review.ChangeReview(1, rating=4.0),
    review.DeleteReview(1),
]


def test_every_edge_command_routes_to_its_decision() -> None:
    """One story through every endpoint, each step deciding something."""
    world = market()

    for command in EVERY_EDGE_COMMAND:
        assert world.handle(command) != {}, command

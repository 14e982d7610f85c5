"""Order lines (the original's order details): the rules of the original's own tests."""

from decimal import Decimal

import pytest

from domain import order
from domain.enums import DeliveryMethod, Status
from domain.errors import (
    ConflictError,
    DomainError,
    InvalidCommandError,
    NotFoundError,
    RuleViolationError,
)
from domain.order import (
    AddOrderLine,
    ChangeOrder,
    ChangeOrderLine,
    OrderLineAdded,
    OrderLineChanged,
    OrderLineRemoved,
    PlaceOrder,
    RemoveOrderLine,
    order_detail_locator,
)
from domain.product import ChangeProduct, CreateProduct, StockReleased, StockReserved
from tests.strategies import CATEGORY_ID, CLIENT_ID, T0, World, decide_all, refusal, shop


def shop_with(*products: tuple[int, str, int], orders: int = 1) -> World:
    """The shop, products as (id, price, stock), and `orders` open orders."""
    world = shop()
    for id_key, price, stock in products:
        world.handle(CreateProduct(id_key, f"Product {id_key}", Decimal(price), CATEGORY_ID, stock))
    for order_id in range(1, orders + 1):
        world.handle(PlaceOrder(order_id, T0, DeliveryMethod.DRIVE_THRU, CLIENT_ID, order_id))
    return world


def stock_of(world: World, product_id: int) -> int:
    stock: int = world.state(f"product-{product_id}").stock
    return stock


def test_a_line_takes_its_quantity_from_the_product_stock() -> None:
    world = shop_with((1, "999.99", 10))

    events = world.handle(AddOrderLine(1, 1, 1, 1))

    assert events == {
        "order-1": [OrderLineAdded(1, 1, 1, 1, Decimal("999.99"))],
        "product-1": [StockReserved(1, 1, 1, 1)],
    }
    assert stock_of(world, 1) == 9


def test_an_order_of_three_products_takes_from_each_stock() -> None:
    world = shop_with((1, "10", 20), (2, "20", 20), (3, "30", 20))

    for product_id in (1, 2, 3):
        world.handle(AddOrderLine(product_id, 1, product_id, 2))

    assert [stock_of(world, p) for p in (1, 2, 3)] == [18, 18, 18]
    assert world.state("order-1").total == Decimal("120.00")


def test_a_line_cannot_take_more_than_the_stock() -> None:
    world = shop_with((1, "10", 5)).given(AddOrderLine(1, 1, 1, 3))

    with pytest.raises(RuleViolationError) as refused:
        world.handle(AddOrderLine(2, 1, 1, 3))

    assert str(refused.value) == (
        "Insufficient stock for product Product 1. Requested: 3, Available: 2"
    )
    assert refused.value.code == "insufficient_stock"
    assert stock_of(world, 1) == 2


def test_two_lines_cannot_take_the_last_unit() -> None:
    world = shop_with((1, "10", 1), orders=2).given(AddOrderLine(1, 1, 1, 1))

    with pytest.raises(RuleViolationError):
        world.handle(AddOrderLine(2, 2, 1, 1))

    assert stock_of(world, 1) == 0


def test_deleting_a_line_restores_its_stock() -> None:
    world = shop_with((1, "10", 10)).given(AddOrderLine(1, 1, 1, 4))

    events = world.handle(RemoveOrderLine(1))

    assert events == {"order-1": [OrderLineRemoved(1, 1)], "product-1": [StockReleased(1, 1, 1, 4)]}
    assert stock_of(world, 1) == 10
    assert order_detail_locator(1) not in world.claims


def test_a_price_far_from_the_product_price_is_refused() -> None:
    world = shop_with((1, "999.99", 10))

    with pytest.raises(RuleViolationError) as refused:
        world.handle(AddOrderLine(1, 1, 1, 1, Decimal("500.00")))

    assert str(refused.value) == "Price mismatch. Expected 999.99, got 500.00"
    assert refused.value.code == "price_mismatch"
    assert stock_of(world, 1) == 10


def test_a_missing_price_is_taken_from_the_product() -> None:
    world = shop_with((1, "999.99", 10)).given(AddOrderLine(1, 1, 1, 2))

    assert world.state("order-1").line(1).price == Decimal("999.99")
    assert world.state("order-1").total == Decimal("1999.98")


@pytest.mark.parametrize("price", ["999.98", "1000.00", "999.985"])
def test_a_price_within_a_cent_of_the_product_price_is_accepted(price: str) -> None:
    world = shop_with((1, "999.99", 10)).given(AddOrderLine(1, 1, 1, 1, Decimal(price)))

    assert abs(world.state("order-1").line(1).price - Decimal("999.99")) <= Decimal("0.01")


def test_a_line_on_a_missing_order_is_not_found() -> None:
    world = shop_with((1, "10", 10))

    with pytest.raises(NotFoundError, match=r"^Order with id 7 not found$"):
        world.handle(AddOrderLine(1, 7, 1, 1))


@pytest.mark.parametrize("status", [Status.DELIVERED, Status.CANCELED])
def test_a_line_cannot_be_added_to_a_final_order(status: Status) -> None:
    world = shop_with((1, "10", 10)).given(ChangeOrder(1, status=status))

    with pytest.raises(ConflictError) as refused:
        world.handle(AddOrderLine(1, 1, 1, 1))

    assert refused.value.code == "order_final"


def test_a_line_on_a_missing_product_is_not_found() -> None:
    world = shop_with()

    with pytest.raises(NotFoundError, match=r"^Product with id 4 not found$"):
        world.handle(AddOrderLine(1, 1, 4, 1))


def test_a_line_cannot_use_an_inactive_product() -> None:
    world = shop_with((1, "10", 10)).given(ChangeProduct(1, active=False))

    with pytest.raises(ConflictError) as refused:
        world.handle(AddOrderLine(1, 1, 1, 1))

    assert refused.value.code == "product_inactive"


@pytest.mark.parametrize(
    ("setup", "line", "code"),
    [
        # a missing order is reported before a missing product
        ([], AddOrderLine(1, 9, 9, 1), "not_found"),
        # a final order before an inactive product
        (
            [ChangeOrder(1, status=Status.CANCELED), ChangeProduct(1, active=False)],
            AddOrderLine(1, 1, 1, 1),
            "order_final",
        ),
        # an inactive product before the stock
        ([ChangeProduct(1, active=False)], AddOrderLine(1, 1, 1, 99), "product_inactive"),
        # the stock before the price
        ([], AddOrderLine(1, 1, 1, 99, Decimal(1)), "insufficient_stock"),
    ],
)
def test_line_rules_are_checked_in_the_original_order(
    setup: list[object], line: AddOrderLine, code: str
) -> None:
    world = shop_with((1, "10", 10)).given(*setup)

    with pytest.raises(DomainError) as refused:
        world.handle(line)

    assert refused.value.code == code


def test_quantity_must_be_positive() -> None:
    world = shop_with((1, "10", 10))

    with pytest.raises(InvalidCommandError) as refused:
        world.handle(AddOrderLine(1, 1, 1, 0))

    assert refused.value.field == "quantity"


def test_a_line_needs_a_product() -> None:
    refused = refusal(shop_with((1, "10", 10)), AddOrderLine(1, 1, None, 1))  # type: ignore[arg-type]

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == "product_id"


def test_a_line_id_cannot_be_used_twice() -> None:
    world = shop_with((1, "10", 10), orders=2).given(AddOrderLine(1, 1, 1, 1))

    with pytest.raises(ConflictError, match="OrderDetail with id 1 already exists"):
        world.handle(AddOrderLine(1, 2, 1, 1))
    with pytest.raises(ConflictError):
        world.handle(AddOrderLine(1, 1, 1, 1))


def test_raising_a_quantity_reserves_the_difference() -> None:
    world = shop_with((1, "10", 10)).given(AddOrderLine(1, 1, 1, 2))

    events = world.handle(ChangeOrderLine(1, quantity=5))

    assert events == {
        "order-1": [OrderLineChanged(1, 1, 1, 5, Decimal("10.00"))],
        "product-1": [StockReserved(1, 1, 1, 3)],
    }
    assert stock_of(world, 1) == 5


def test_raising_a_quantity_beyond_the_stock_reports_the_additional_units() -> None:
    world = shop_with((1, "10", 5)).given(AddOrderLine(1, 1, 1, 3))

    with pytest.raises(RuleViolationError) as refused:
        world.handle(ChangeOrderLine(1, quantity=6))

    assert str(refused.value) == (
        "Insufficient stock for product Product 1. Requested additional: 3, Available: 2"
    )


def test_lowering_a_quantity_releases_the_difference() -> None:
    world = shop_with((1, "10", 10)).given(AddOrderLine(1, 1, 1, 5))

    world.handle(ChangeOrderLine(1, quantity=1))

    assert stock_of(world, 1) == 9


def test_a_quantity_raise_on_an_inactive_product_is_refused_but_a_cut_is_not() -> None:
    world = shop_with((1, "10", 10)).given(AddOrderLine(1, 1, 1, 5), ChangeProduct(1, active=False))

    with pytest.raises(ConflictError):
        world.handle(ChangeOrderLine(1, quantity=6))
    world.handle(ChangeOrderLine(1, quantity=2))

    assert stock_of(world, 1) == 8


def test_moving_a_line_to_another_product_releases_the_old_stock_and_reserves_the_new() -> None:
    world = shop_with((1, "10", 10), (2, "10", 10)).given(AddOrderLine(1, 1, 1, 4))

    events = world.handle(ChangeOrderLine(1, product_id=2))

    assert events == {
        "order-1": [OrderLineChanged(1, 1, 2, 4, Decimal("10.00"))],
        "product-2": [StockReserved(2, 1, 1, 4)],
        "product-1": [StockReleased(1, 1, 1, 4)],
    }
    assert (stock_of(world, 1), stock_of(world, 2)) == (10, 6)


def test_moving_a_line_to_another_product_takes_that_products_price() -> None:
    world = shop_with((1, "10", 10), (2, "25", 10)).given(AddOrderLine(1, 1, 1, 1))

    world.handle(ChangeOrderLine(1, product_id=2))

    assert world.state("order-1").line(1).price == Decimal("25.00")


def test_moving_a_line_to_a_product_without_the_stock_is_refused() -> None:
    world = shop_with((1, "10", 10), (2, "10", 2)).given(AddOrderLine(1, 1, 1, 4))

    with pytest.raises(RuleViolationError, match="Requested: 4, Available: 2"):
        world.handle(ChangeOrderLine(1, product_id=2))


def test_a_changed_price_is_checked_against_the_product() -> None:
    world = shop_with((1, "10", 10)).given(AddOrderLine(1, 1, 1, 1))

    with pytest.raises(RuleViolationError, match=r"^Price mismatch. Expected 10.00, got 12.00$"):
        world.handle(ChangeOrderLine(1, price=Decimal(12)))
    world.handle(ChangeOrderLine(1, price=Decimal("10.01")))

    assert world.state("order-1").line(1).price == Decimal("10.01")


def test_a_null_price_takes_the_products_current_price() -> None:
    world = shop_with((1, "10", 10)).given(
        AddOrderLine(1, 1, 1, 1), ChangeProduct(1, price=Decimal(11))
    )

    world.handle(ChangeOrderLine(1, price=None))

    assert world.state("order-1").line(1).price == Decimal("11.00")


def test_a_line_change_that_changes_nothing_appends_nothing() -> None:
    world = shop_with((1, "10", 10)).given(AddOrderLine(1, 1, 1, 2))

    assert world.handle(ChangeOrderLine(1, order_id=1, product_id=1, quantity=2)) == {}


def test_moving_a_line_to_another_open_order_moves_it_between_the_streams() -> None:
    world = shop_with((1, "10", 10), orders=2).given(AddOrderLine(1, 1, 1, 2))

    events = world.handle(ChangeOrderLine(1, order_id=2, quantity=3))

    assert events == {
        "order-1": [OrderLineRemoved(1, 1)],
        "order-2": [OrderLineAdded(1, 2, 1, 3, Decimal("10.00"))],
        "product-1": [StockReserved(1, 2, 1, 1)],
    }
    assert world.claims[order_detail_locator(1)] == "order-2"
    assert world.state("order-1").total == 0
    assert world.state("order-2").total == Decimal("30.00")


@pytest.mark.parametrize(("target", "error"), [(2, ConflictError), (9, NotFoundError)])
def test_a_line_moves_only_to_an_open_order(target: int, error: type[Exception]) -> None:
    world = shop_with((1, "10", 10), orders=2).given(
        AddOrderLine(1, 1, 1, 2), ChangeOrder(2, status=Status.DELIVERED)
    )

    with pytest.raises(error):
        world.handle(ChangeOrderLine(1, order_id=target))


@pytest.mark.parametrize("status", [Status.DELIVERED, Status.CANCELED])
def test_a_line_of_a_final_order_can_neither_change_nor_go(status: Status) -> None:
    world = shop_with((1, "10", 10)).given(AddOrderLine(1, 1, 1, 2), ChangeOrder(1, status=status))

    with pytest.raises(ConflictError):
        world.handle(ChangeOrderLine(1, quantity=1))
    with pytest.raises(ConflictError):
        world.handle(RemoveOrderLine(1))


def test_an_unknown_line_is_not_found() -> None:
    world = shop_with((1, "10", 10))

    with pytest.raises(NotFoundError, match=r"^OrderDetail with id 9 not found$"):
        world.handle(ChangeOrderLine(9, quantity=1))
    with pytest.raises(NotFoundError, match=r"^OrderDetail with id 9 not found$"):
        world.handle(RemoveOrderLine(9))


def test_a_body_id_key_differing_from_the_path_is_invalid() -> None:
    world = shop_with((1, "10", 10)).given(AddOrderLine(1, 1, 1, 2))

    with pytest.raises(InvalidCommandError) as refused:
        world.handle(ChangeOrderLine(1, quantity=3, body_id_key=2))

    assert (refused.value.field, refused.value.code) == ("id_key", "id_key_mismatch")
    assert world.handle(ChangeOrderLine(1, quantity=3, body_id_key=1)) != {}


@pytest.mark.parametrize("field", ["product_id", "order_id", "quantity"])
def test_a_required_line_field_cannot_be_nulled(field: str) -> None:
    world = shop_with((1, "10", 10)).given(AddOrderLine(1, 1, 1, 2))

    with pytest.raises(InvalidCommandError) as refused:
        world.handle(ChangeOrderLine(1, **{field: None}))  # type: ignore[arg-type]

    assert refused.value.field == field


def test_the_order_decider_alone_needs_a_resolved_price() -> None:
    placed = order.OrderPlaced(1, T0, DeliveryMethod.ON_HAND, Status.PENDING, 1, 1)

    with pytest.raises(InvalidCommandError) as refused:
        decide_all(order.decider, [placed], AddOrderLine(1, 1, 1, 1))

    assert refused.value.field == "price"


def test_the_order_decider_alone_cannot_move_a_line_to_another_order() -> None:
    given = [
        order.OrderPlaced(1, T0, DeliveryMethod.ON_HAND, Status.PENDING, 1, 1),
        OrderLineAdded(5, 1, 1, 1, Decimal(1)),
    ]

    with pytest.raises(InvalidCommandError):
        decide_all(order.decider, given, ChangeOrderLine(5, order_id=2))
    assert decide_all(order.decider, given, ChangeOrderLine(5, quantity=1)) == []

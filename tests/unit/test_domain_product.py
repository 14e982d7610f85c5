"""Products: fields, soft deletion, reactivation, stock adjustments and their category."""

from decimal import Decimal

import pytest

from domain import product
from domain.category import (
    CategoryDeleted,
    CategoryProductAttached,
    CategoryProductDetached,
    CreateCategory,
    DeleteCategory,
)
from domain.decider import fold
from domain.errors import ConflictError, InvalidCommandError, NotFoundError, RuleViolationError
from domain.product import (
    ChangeProduct,
    CreateProduct,
    DeactivateProduct,
    ProductChanged,
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
from tests.strategies import CATEGORY_ID, World, decide_all, refusal, shop

OTHER_CATEGORY = 2


def laptop(stock: int = 10) -> CreateProduct:
    return CreateProduct(1, "Laptop", Decimal("999.99"), CATEGORY_ID, stock)


def catalog() -> World:
    return shop().given(CreateCategory(OTHER_CATEGORY, "Books"), laptop())


CREATED = ProductCreated(1, "Laptop", Decimal("999.99"), 10, CATEGORY_ID)


def test_a_product_is_created_and_joins_its_categorys_active_products() -> None:
    world = shop()

    events = world.handle(laptop())

    assert events == {"product-1": [CREATED], "category-1": [CategoryProductAttached(1, 1)]}
    assert world.state("category-1").active_products == {1}


def test_stock_defaults_to_zero() -> None:
    events = shop().handle(CreateProduct(1, "Cable", Decimal(3), CATEGORY_ID))

    assert events["product-1"] == [ProductCreated(1, "Cable", Decimal("3.00"), 0, CATEGORY_ID)]


def test_a_product_in_a_missing_category_is_not_found() -> None:
    refused = refusal(shop(), CreateProduct(1, "Laptop", Decimal(1), 5))

    assert str(refused) == "Category with id 5 not found"


def test_a_product_in_a_deleted_category_is_not_found() -> None:
    world = shop().given(CreateCategory(5, "Old"), DeleteCategory(5))

    assert str(refusal(world, CreateProduct(1, "Laptop", Decimal(1), 5))) == (
        "Category with id 5 not found"
    )


def test_a_product_id_cannot_be_created_twice() -> None:
    assert refusal(catalog(), laptop()).code == "duplicate_id"


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (CreateProduct(1, "", Decimal(1), CATEGORY_ID), "name"),
        (CreateProduct(1, "n" * 201, Decimal(1), CATEGORY_ID), "name"),
        (CreateProduct(1, "ok", Decimal(0), CATEGORY_ID), "price"),
        (CreateProduct(1, "ok", Decimal("-0.01"), CATEGORY_ID), "price"),
        (CreateProduct(1, "ok", Decimal("0.004"), CATEGORY_ID), "price"),
        (CreateProduct(1, "ok", Decimal("Infinity"), CATEGORY_ID), "price"),
        (CreateProduct(1, "ok", Decimal(1), CATEGORY_ID, -1), "stock"),
        (CreateProduct(1, "ok", Decimal(1), None), "category_id"),  # type: ignore[arg-type]
        (CreateProduct(1, "nul\x00", Decimal(1), CATEGORY_ID), "name"),
    ],
)
def test_invalid_product_fields_are_refused(command: CreateProduct, field: str) -> None:
    refused = refusal(shop(), command)

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == field


def test_names_of_one_and_two_hundred_characters_are_accepted() -> None:
    world = shop().given(CreateProduct(1, "n", Decimal(1), CATEGORY_ID))

    world.handle(CreateProduct(2, "n" * 200, Decimal(1), CATEGORY_ID))


def test_a_price_is_kept_in_cents_rounded_half_up() -> None:
    events = shop().handle(CreateProduct(1, "Pen", Decimal("1.005"), CATEGORY_ID))

    assert events["product-1"][0] == ProductCreated(1, "Pen", Decimal("1.01"), 0, CATEGORY_ID)


def test_changing_name_and_price_is_one_event() -> None:
    events = catalog().handle(ChangeProduct(1, name="Notebook", price=Decimal(899)))

    assert events == {"product-1": [ProductChanged(1, "Notebook", Decimal("899.00"))]}


def test_a_put_of_stock_adjusts_it_directly() -> None:
    world = catalog()

    events = world.handle(ChangeProduct(1, stock=4))

    assert events == {"product-1": [StockAdjusted(1, 4, -6)]}
    assert world.state("product-1").stock == 4


def test_a_put_that_changes_nothing_appends_nothing() -> None:
    assert catalog().handle(ChangeProduct(1, name="Laptop", stock=10, active=True)) == {}


def test_delete_deactivates_the_product_and_keeps_it() -> None:
    world = catalog()

    events = world.handle(DeactivateProduct(1))

    assert events == {
        "product-1": [ProductDeactivated(1)],
        "category-1": [CategoryProductDetached(1, 1)],
    }
    assert world.state("product-1").active is False
    assert world.handle(DeactivateProduct(1)) == {}


def test_a_put_of_active_false_deactivates_and_true_reactivates() -> None:
    world = catalog()

    assert world.handle(ChangeProduct(1, active=False))["product-1"] == [ProductDeactivated(1)]
    events = world.handle(ChangeProduct(1, active=True))

    assert events == {
        "product-1": [ProductReactivated(1)],
        "category-1": [CategoryProductAttached(1, 1)],
    }


def test_a_product_cannot_be_reactivated_into_a_deleted_category() -> None:
    world = catalog().given(DeactivateProduct(1), DeleteCategory(CATEGORY_ID))

    assert str(refusal(world, ChangeProduct(1, active=True))) == "Category with id 1 not found"


def test_moving_an_active_product_moves_it_between_the_categories() -> None:
    world = catalog()

    events = world.handle(ChangeProduct(1, category_id=OTHER_CATEGORY))

    assert events == {
        "product-1": [ProductMoved(1, OTHER_CATEGORY, CATEGORY_ID)],
        "category-1": [CategoryProductDetached(1, 1)],
        "category-2": [CategoryProductAttached(2, 1)],
    }
    world.handle(DeleteCategory(CATEGORY_ID))


def test_moving_an_inactive_product_touches_no_category_but_needs_the_target() -> None:
    world = catalog().given(DeactivateProduct(1))

    events = world.handle(ChangeProduct(1, category_id=OTHER_CATEGORY))

    assert events == {"product-1": [ProductMoved(1, OTHER_CATEGORY, CATEGORY_ID)]}
    assert str(refusal(world, ChangeProduct(1, category_id=9))) == "Category with id 9 not found"


def test_moving_and_deactivating_at_once_only_leaves_the_old_category() -> None:
    events = catalog().handle(ChangeProduct(1, category_id=OTHER_CATEGORY, active=False))

    assert events["category-1"] == [CategoryProductDetached(1, 1)]
    assert "category-2" not in events


def test_moving_to_a_deleted_category_is_not_found() -> None:
    world = catalog().given(DeleteCategory(OTHER_CATEGORY))

    assert isinstance(refusal(world, ChangeProduct(1, category_id=OTHER_CATEGORY)), NotFoundError)


def test_a_missing_product_cannot_change_or_be_deleted() -> None:
    world = shop()

    assert str(refusal(world, ChangeProduct(3, name="x"))) == "Product with id 3 not found"
    assert str(refusal(world, DeactivateProduct(3))) == "Product with id 3 not found"


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (ChangeProduct(1, active=None), "active"),  # type: ignore[arg-type]
        (ChangeProduct(1, category_id=None), "category_id"),  # type: ignore[arg-type]
        (ChangeProduct(1, stock=-1), "stock"),
        (ChangeProduct(1, price=Decimal(0)), "price"),
        (ChangeProduct(1, name=""), "name"),
        (ChangeProduct(1, name="x", body_id_key=2), "id_key"),
    ],
)
def test_invalid_product_changes_are_refused(command: ChangeProduct, field: str) -> None:
    refused = refusal(catalog(), command)

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == field


# --- the product decider's own stock rules ---------------------------------------------------


def test_units_move_between_available_reserved_and_sold() -> None:
    given: list[ProductEvent] = [
        CREATED,
        StockReserved(1, 1, 1, 4),
        StockReleased(1, 1, 1, 1),
        StockSold(1, 1, 1, 2),
    ]

    state = fold(product.decider, given)

    assert state is not None
    assert (state.stock, state.reserved, state.sold) == (7, 1, 2)


def test_reserving_is_refused_beyond_the_stock() -> None:
    with pytest.raises(RuleViolationError, match="Requested: 11, Available: 10"):
        decide_all(product.decider, [CREATED], ReserveStock(1, 1, 1, 11))


@pytest.mark.parametrize("kind", [ReleaseStock, SellStock])
def test_no_more_units_than_reserved_can_be_released_or_sold(
    kind: type[ReleaseStock | SellStock],
) -> None:
    given = [CREATED, StockReserved(1, 1, 1, 2)]

    with pytest.raises(InvalidCommandError) as refused:
        decide_all(product.decider, given, kind(1, 1, 1, 3))

    assert refused.value.code == "not_reserved"
    assert decide_all(product.decider, given, kind(1, 1, 1, 2)) != []


def test_stock_commands_on_a_missing_product_are_not_found() -> None:
    with pytest.raises(NotFoundError):
        decide_all(product.decider, [], ReleaseStock(1, 1, 1, 1))
    with pytest.raises(NotFoundError):
        decide_all(product.decider, [], ReserveStock(1, 1, 1, 1))


def test_an_inactive_product_still_takes_back_its_units() -> None:
    given = [CREATED, StockReserved(1, 1, 1, 2), ProductDeactivated(1)]

    assert decide_all(product.decider, given, ReleaseStock(1, 1, 1, 2)) == [
        StockReleased(1, 1, 1, 2)
    ]
    with pytest.raises(ConflictError):
        decide_all(product.decider, given, ReserveStock(1, 1, 1, 1))


def test_a_deleted_category_is_told_nothing_when_its_inactive_product_moves() -> None:
    world = catalog().given(DeactivateProduct(1), DeleteCategory(CATEGORY_ID))

    events = world.handle(ChangeProduct(1, category_id=OTHER_CATEGORY, active=True))

    assert events["category-2"] == [CategoryProductAttached(2, 1)]
    assert "category-1" not in events
    assert world.streams["category-1"][-1] == CategoryDeleted(1, "Electronics")

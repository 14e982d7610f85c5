"""Categories: unique names, renames, and deletion only without active products."""

from decimal import Decimal

import pytest

from domain import category
from domain.category import (
    AttachProduct,
    CategoryCreated,
    CategoryDeleted,
    CategoryProductAttached,
    CategoryProductDetached,
    CategoryRenamed,
    ChangeCategory,
    CreateCategory,
    DeleteCategory,
    DetachProduct,
    category_name_claim,
)
from domain.errors import InvalidCommandError, NotFoundError
from domain.product import CreateProduct, DeactivateProduct
from tests.strategies import World, decide_all, refusal

CREATED = CategoryCreated(1, "Books")


def books() -> World:
    return World().given(CreateCategory(1, "Books"))


def test_a_category_is_created_and_claims_its_name() -> None:
    world = World()

    assert world.handle(CreateCategory(1, "Books")) == {"category-1": [CREATED]}
    assert world.claims[category_name_claim("Books")] == "category-1"


@pytest.mark.parametrize("name", ["Books", "books", "  BOOKS ", "BoOkS\t"])
def test_a_category_name_is_unique_whatever_its_case_and_spacing(name: str) -> None:
    refused = refusal(books(), CreateCategory(2, name))

    assert refused.code == "duplicate_category_name"
    assert str(refused) == "Category with name books already exists"


@pytest.mark.parametrize("name", ["", "c" * 101])
def test_a_category_name_is_one_to_a_hundred_characters(name: str) -> None:
    refused = refusal(World(), CreateCategory(1, name))

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == "name"


def test_a_category_id_cannot_be_created_twice() -> None:
    assert refusal(books(), CreateCategory(1, "Other")).code == "duplicate_id"


def test_renaming_claims_the_new_name_and_frees_the_old() -> None:
    world = books()

    assert world.handle(ChangeCategory(1, name="Novels")) == {
        "category-1": [CategoryRenamed(1, "Novels", "Books")]
    }
    world.handle(CreateCategory(2, "Books"))
    assert refusal(world, CreateCategory(3, "NOVELS")).code == "duplicate_category_name"


def test_renaming_to_another_case_keeps_the_claim() -> None:
    world = books().given(ChangeCategory(1, name="BOOKS"))

    assert world.claims == {category_name_claim("books"): "category-1"}


def test_a_rename_to_the_same_name_or_without_a_name_appends_nothing() -> None:
    world = books()

    assert world.handle(ChangeCategory(1, name="Books")) == {}
    assert world.handle(ChangeCategory(1)) == {}


def test_a_rename_with_another_body_id_key_is_invalid() -> None:
    refused = refusal(books(), ChangeCategory(1, name="x", body_id_key=2))

    assert isinstance(refused, InvalidCommandError)
    assert refused.code == "id_key_mismatch"


def test_a_deleted_category_is_gone_and_its_name_is_free() -> None:
    world = books()

    assert world.handle(DeleteCategory(1)) == {"category-1": [CategoryDeleted(1, "Books")]}
    assert str(refusal(world, ChangeCategory(1, name="x"))) == "Category with id 1 not found"
    assert isinstance(refusal(world, DeleteCategory(1)), NotFoundError)
    world.handle(CreateCategory(2, "books"))


def test_a_category_with_active_products_cannot_be_deleted() -> None:
    world = books().given(
        CreateProduct(7, "Dune", Decimal(10), 1), CreateProduct(8, "Emma", Decimal(10), 1)
    )

    refused = refusal(world, DeleteCategory(1))

    assert refused.code == "category_has_active_products"
    assert str(refused) == "Category with id 1 still has 2 active product(s)"


def test_a_category_whose_products_are_all_inactive_can_be_deleted() -> None:
    world = books().given(CreateProduct(7, "Dune", Decimal(10), 1), DeactivateProduct(7))

    assert world.handle(DeleteCategory(1)) == {"category-1": [CategoryDeleted(1, "Books")]}


def test_attaching_and_detaching_are_idempotent() -> None:
    attached = [CREATED, CategoryProductAttached(1, 7)]

    assert decide_all(category.decider, attached, AttachProduct(1, 7)) == []
    assert decide_all(category.decider, [CREATED], DetachProduct(1, 7)) == []
    assert decide_all(category.decider, attached, DetachProduct(1, 7)) == [
        CategoryProductDetached(1, 7)
    ]


def test_a_missing_category_takes_no_product() -> None:
    with pytest.raises(NotFoundError):
        decide_all(category.decider, [], AttachProduct(1, 7))
    assert decide_all(category.decider, [], DetachProduct(1, 7)) == []

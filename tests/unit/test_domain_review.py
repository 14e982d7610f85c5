"""Reviews: a rating of an existing product."""

from decimal import Decimal

import pytest

from domain import review
from domain.errors import InvalidCommandError, NotFoundError
from domain.product import CreateProduct, DeactivateProduct
from domain.review import (
    ChangeReview,
    CreateReview,
    DeleteReview,
    ReviewChanged,
    ReviewCreated,
    ReviewDeleted,
)
from tests.strategies import CATEGORY_ID, World, decide_all, refusal, shop


def reviewed() -> World:
    return shop().given(
        CreateProduct(1, "Laptop", Decimal(1), CATEGORY_ID),
        CreateProduct(2, "Mouse", Decimal(1), CATEGORY_ID),
        CreateReview(1, 1, 5.0, "Great machine"),
    )


def test_a_review_is_created_for_an_existing_product() -> None:
    world = shop().given(CreateProduct(1, "Laptop", Decimal(1), CATEGORY_ID))

    assert world.handle(CreateReview(1, 1, 4.5)) == {"review-1": [ReviewCreated(1, 1, 4.5, None)]}


def test_a_review_of_a_missing_product_is_not_found() -> None:
    assert str(refusal(shop(), CreateReview(1, 9, 4.0))) == "Product with id 9 not found"


def test_an_inactive_product_may_still_be_reviewed() -> None:
    world = reviewed().given(DeactivateProduct(2))

    world.handle(CreateReview(2, 2, 1.0))


@pytest.mark.parametrize(
    ("command", "field"),
    [
        (CreateReview(2, 1, 0.99), "rating"),
        (CreateReview(2, 1, 5.01), "rating"),
        (CreateReview(2, 1, float("nan")), "rating"),
        (CreateReview(2, 1, None), "rating"),  # type: ignore[arg-type]
        (CreateReview(2, 1, 3.0, "too short"), "comment"),
        (CreateReview(2, 1, 3.0, "c" * 1001), "comment"),
        (CreateReview(2, None, 3.0), "product_id"),  # type: ignore[arg-type]
    ],
)
def test_invalid_review_fields_are_refused(command: CreateReview, field: str) -> None:
    refused = refusal(reviewed(), command)

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == field


def test_ratings_of_one_and_five_and_comments_of_ten_characters_are_accepted() -> None:
    world = reviewed()

    world.handle(CreateReview(2, 1, 1, "ten chars!"))  # an int rating is taken as a float
    world.handle(CreateReview(3, 1, 5.0, "c" * 1000))

    assert world.state("review-2").rating == 1.0


def test_a_review_id_cannot_be_created_twice() -> None:
    assert refusal(reviewed(), CreateReview(1, 1, 3.0)).code == "duplicate_id"


def test_a_review_changes_and_may_move_to_another_existing_product() -> None:
    world = reviewed()

    events = world.handle(ChangeReview(1, product_id=2, comment=None))

    assert events == {"review-1": [ReviewChanged(1, 2, 5.0, None)]}
    assert str(refusal(world, ChangeReview(1, product_id=9))) == "Product with id 9 not found"


def test_a_review_change_that_changes_nothing_appends_nothing() -> None:
    assert reviewed().handle(ChangeReview(1, product_id=1, rating=5.0)) == {}


def test_a_review_change_with_another_body_id_key_is_invalid() -> None:
    assert refusal(reviewed(), ChangeReview(1, rating=2.0, body_id_key=5)).code == (
        "id_key_mismatch"
    )


def test_a_deleted_review_is_gone() -> None:
    world = reviewed()

    assert world.handle(DeleteReview(1)) == {"review-1": [ReviewDeleted(1, 1)]}
    assert str(refusal(world, DeleteReview(1))) == "Review with id 1 not found"
    assert isinstance(refusal(world, ChangeReview(1, rating=1.0)), NotFoundError)


def test_the_review_decider_alone_refuses_a_missing_review() -> None:
    with pytest.raises(NotFoundError):
        decide_all(review.decider, [], ChangeReview(1, rating=1.0))

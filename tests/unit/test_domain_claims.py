"""Claims: unique values and locators, derived from events alone."""

import pytest

from domain.bill import BILL_NUMBER, BillChanged, BillCreated, BillDeleted, BillNumberChanged
from domain.catalogue import claim_changes, claims_of, conflict_for
from domain.category import CATEGORY_NAME, CategoryCreated, CategoryDeleted, CategoryRenamed
from domain.claims import Claim, ClaimChanges
from domain.client import (
    ADDRESS,
    CLIENT_EMAIL,
    AddressAdded,
    AddressRemoved,
    ClientCreated,
    ClientDeleted,
    ClientEmailChanged,
    address_locator,
)
from domain.enums import PaymentType
from domain.events import Event
from domain.order import (
    ORDER_DETAIL,
    OrderDeleted,
    OrderLineAdded,
    OrderLineRemoved,
    order_detail_locator,
)
from domain.product import ProductDeactivated
from tests.strategies import T0


def email(value: str) -> Claim:
    return Claim(CLIENT_EMAIL, value)


@pytest.mark.parametrize(
    ("event", "claimed", "released"),
    [
        (CategoryCreated(1, " Home  Garden "), [Claim(CATEGORY_NAME, "home garden")], []),
        (
            CategoryRenamed(1, "Toys", "Games"),
            [Claim(CATEGORY_NAME, "toys")],
            [Claim(CATEGORY_NAME, "games")],
        ),
        (CategoryRenamed(1, "TOYS", "toys"), [], []),
        (CategoryDeleted(1, "Toys"), [], [Claim(CATEGORY_NAME, "toys")]),
        (ClientCreated(1, None, None, "A@B.co", None), [email("a@b.co")], []),
        (ClientCreated(1, None, None, None, None), [], []),
        (ClientEmailChanged(1, "x@y.z", None), [email("x@y.z")], []),
        (ClientEmailChanged(1, None, "x@y.z"), [], [email("x@y.z")]),
        (ClientEmailChanged(1, "X@y.z", "x@y.z"), [], []),
        (
            ClientDeleted(1, "x@y.z", (4, 5)),
            [],
            [email("x@y.z"), Claim(ADDRESS, "4"), Claim(ADDRESS, "5")],
        ),
        (AddressAdded(4, 1, None, None, None), [Claim(ADDRESS, "4")], []),
        (AddressRemoved(4, 1), [], [Claim(ADDRESS, "4")]),
        (
            BillCreated(1, "B-1", None, T0.date(), 0, PaymentType.CASH, 1),  # type: ignore[arg-type]
            [Claim(BILL_NUMBER, "B-1")],
            [],
        ),
        (
            BillNumberChanged(1, "B-2", "B-1"),
            [Claim(BILL_NUMBER, "B-2")],
            [Claim(BILL_NUMBER, "B-1")],
        ),
        (BillDeleted(1, "B-2"), [], [Claim(BILL_NUMBER, "B-2")]),
        (BillChanged(1, None, T0.date(), 0, PaymentType.CASH, 1), [], []),  # type: ignore[arg-type]
        (OrderLineAdded(9, 1, 1, 1, 1), [Claim(ORDER_DETAIL, "9")], []),  # type: ignore[arg-type]
        (OrderLineRemoved(9, 1), [], [Claim(ORDER_DETAIL, "9")]),
        (OrderDeleted(1, (9, 10)), [], [Claim(ORDER_DETAIL, "9"), Claim(ORDER_DETAIL, "10")]),
        (ProductDeactivated(1), [], []),
    ],
)
def test_claims_follow_from_the_event(
    event: Event, claimed: list[Claim], released: list[Claim]
) -> None:
    assert claims_of(event) == (claimed, released)


def test_an_append_lists_releases_and_claims_with_their_owner_stream() -> None:
    changes = claim_changes(
        {
            "client-1": [AddressRemoved(4, 1)],
            "client-2": [AddressAdded(4, 2, None, None, None)],
        }
    )

    assert changes == ClaimChanges(
        released=[(address_locator(4), "client-1")], claimed=[(address_locator(4), "client-2")]
    )


@pytest.mark.parametrize(
    ("claim", "message", "code"),
    [
        (email("a@b.co"), "Client with email a@b.co already exists", "duplicate_email"),
        (
            Claim(CATEGORY_NAME, "toys"),
            "Category with name toys already exists",
            "duplicate_category_name",
        ),
        (Claim(BILL_NUMBER, "B-1"), "Bill with number B-1 already exists", "duplicate_bill_number"),
        (address_locator(4), "Address with id 4 already exists", "duplicate_id"),
        (order_detail_locator(4), "OrderDetail with id 4 already exists", "duplicate_id"),
        (Claim("something_else", "v"), "v is already taken", "duplicate"),
    ],
)
def test_a_claim_taken_by_another_stream_is_a_conflict(
    claim: Claim, message: str, code: str
) -> None:
    error = conflict_for(claim)

    assert (str(error), error.code) == (message, code)

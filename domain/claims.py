"""Unique values and locators, as claims the event store enforces in the append transaction.

A claim is a `(scope, value)` pair owned by one stream. The store keeps a table
`(scope, value) -> owner stream`, applies an append's releases, then its claims, and refuses
the whole append (`conflict_for(claim)`) when a claim is already owned by another stream.

Unique values: `client_email` (lower-cased), `category_name` (case- and space-insensitive),
`bill_number` (exact). Locators, so the command side finds the stream holding a sub-entity:
`address` (address id_key -> its client's stream) and `order_detail` (line id_key -> its
order's stream). Events carry the previous value of a claimed field so that this module can
stay a pure function of the event.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, assert_never

from domain.bill import BillCreated, BillDeleted, BillNumberChanged
from domain.category import CategoryCreated, CategoryDeleted, CategoryRenamed
from domain.client import (
    AddressAdded,
    AddressRemoved,
    ClientCreated,
    ClientDeleted,
    ClientEmailChanged,
)
from domain.errors import ConflictError
from domain.events import Event
from domain.order import OrderDeleted, OrderLineAdded, OrderLineRemoved

CLIENT_EMAIL: Final = "client_email"
CATEGORY_NAME: Final = "category_name"
BILL_NUMBER: Final = "bill_number"
ADDRESS: Final = "address"
ORDER_DETAIL: Final = "order_detail"
SCOPES: Final = (CLIENT_EMAIL, CATEGORY_NAME, BILL_NUMBER, ADDRESS, ORDER_DETAIL)


@dataclass(frozen=True, slots=True)
class Claim:
    scope: str
    value: str


def email_claim(email: str) -> Claim:
    return Claim(CLIENT_EMAIL, email.strip().lower())


def category_name_claim(name: str) -> Claim:
    return Claim(CATEGORY_NAME, " ".join(name.split()).casefold())


def bill_number_claim(bill_number: str) -> Claim:
    return Claim(BILL_NUMBER, bill_number)


def address_locator(address_id: int) -> Claim:
    return Claim(ADDRESS, str(address_id))


def order_detail_locator(line_id: int) -> Claim:
    return Claim(ORDER_DETAIL, str(line_id))


def _emails(email: str | None) -> list[Claim]:
    return [] if email is None else [email_claim(email)]


def _swap(new: list[Claim], old: list[Claim]) -> tuple[list[Claim], list[Claim]]:
    """Claim `new`, release `old`, unless they normalise to the same value."""
    return ([], []) if new == old else (new, old)


def claims_of(event: Event) -> tuple[list[Claim], list[Claim]]:
    """The claims an event takes and releases for the stream it is appended to."""
    match event:
        case CategoryCreated() | CategoryRenamed() | CategoryDeleted():
            return _category_claims(event)
        case (
            ClientCreated()
            | ClientEmailChanged()
            | ClientDeleted()
            | AddressAdded()
            | AddressRemoved()
        ):
            return _client_claims(event)
        case BillCreated() | BillNumberChanged() | BillDeleted():
            return _bill_claims(event)
        case OrderLineAdded() | OrderLineRemoved() | OrderDeleted():
            return _order_claims(event)
        case _:
            return [], []


def _category_claims(
    event: CategoryCreated | CategoryRenamed | CategoryDeleted,
) -> tuple[list[Claim], list[Claim]]:
    match event:
        case CategoryCreated(name=name):
            return [category_name_claim(name)], []
        case CategoryRenamed(name=name, previous_name=previous):
            return _swap([category_name_claim(name)], [category_name_claim(previous)])
        case CategoryDeleted(name=name):
            return [], [category_name_claim(name)]
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(event)


def _client_claims(
    event: ClientCreated | ClientEmailChanged | ClientDeleted | AddressAdded | AddressRemoved,
) -> tuple[list[Claim], list[Claim]]:
    match event:
        case ClientCreated(email=email):
            return _emails(email), []
        case ClientEmailChanged(email=email, previous_email=previous):
            return _swap(_emails(email), _emails(previous))
        case ClientDeleted(email=email, address_ids=address_ids):
            return [], _emails(email) + [address_locator(a) for a in address_ids]
        case AddressAdded(id_key=id_key):
            return [address_locator(id_key)], []
        case AddressRemoved(id_key=id_key):
            return [], [address_locator(id_key)]
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(event)


def _bill_claims(
    event: BillCreated | BillNumberChanged | BillDeleted,
) -> tuple[list[Claim], list[Claim]]:
    match event:
        case BillCreated(bill_number=number):
            return [bill_number_claim(number)], []
        case BillNumberChanged(bill_number=number, previous_bill_number=previous):
            return _swap([bill_number_claim(number)], [bill_number_claim(previous)])
        case BillDeleted(bill_number=number):
            return [], [bill_number_claim(number)]
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(event)


def _order_claims(
    event: OrderLineAdded | OrderLineRemoved | OrderDeleted,
) -> tuple[list[Claim], list[Claim]]:
    match event:
        case OrderLineAdded(id_key=id_key):
            return [order_detail_locator(id_key)], []
        case OrderLineRemoved(id_key=id_key):
            return [], [order_detail_locator(id_key)]
        case OrderDeleted(line_ids=line_ids):
            return [], [order_detail_locator(line) for line in line_ids]
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(event)


@dataclass(frozen=True, slots=True)
class ClaimChanges:
    """An append's claim work, as (claim, owner stream) pairs: apply `released` first.

    Releasing first lets one append hand a value from one stream to another (an address moved
    to another client, a line moved to another order, a bill number freed and reused).
    """

    released: list[tuple[Claim, str]] = field(default_factory=list)
    claimed: list[tuple[Claim, str]] = field(default_factory=list)


def claim_changes(events_by_stream: Mapping[str, Sequence[Event]]) -> ClaimChanges:
    changes = ClaimChanges()
    for stream, events in events_by_stream.items():
        for event in events:
            claimed, released = claims_of(event)
            changes.released.extend((claim, stream) for claim in released)
            changes.claimed.extend((claim, stream) for claim in claimed)
    return changes


_DUPLICATES: Final = {
    CLIENT_EMAIL: ("Client with email {} already exists", "duplicate_email"),
    CATEGORY_NAME: ("Category with name {} already exists", "duplicate_category_name"),
    BILL_NUMBER: ("Bill with number {} already exists", "duplicate_bill_number"),
    ADDRESS: ("Address with id {} already exists", "duplicate_id"),
    ORDER_DETAIL: ("OrderDetail with id {} already exists", "duplicate_id"),
}


def conflict_for(claim: Claim) -> ConflictError:
    """The 409 to raise when `claim` is already owned by another stream."""
    message, code = _DUPLICATES.get(claim.scope, ("{} is already taken", "duplicate"))
    return ConflictError(message.format(claim.value), code=code)

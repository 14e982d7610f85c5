"""The projector's pure step: every event type lands in the read model that serves it, as the
document the command API renders, and nowhere else."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import orjson
import pytest

from domain.bill import (
    BillAssigned,
    BillChanged,
    BillCreated,
    BillDeleted,
    BillNumberChanged,
    BillReleased,
)
from domain.catalogue import BY_NAME
from domain.category import (
    CategoryCreated,
    CategoryDeleted,
    CategoryProductAttached,
    CategoryProductDetached,
    CategoryRenamed,
)
from domain.client import (
    Address,
    AddressAdded,
    AddressChanged,
    AddressRemoved,
    ChangeAddress,
    ClientChanged,
    ClientCreated,
    ClientDeleted,
    ClientEmailChanged,
    ClientState,
    PersonalDataErased,
    change_address,
)
from domain.codec import EVENT_TYPES
from domain.enums import DeliveryMethod, PaymentType, Status
from domain.events import Event
from domain.order import (
    OrderChanged,
    OrderDeleted,
    OrderLineAdded,
    OrderLineChanged,
    OrderLineRemoved,
    OrderPlaced,
    OrderReassigned,
    OrderStatusChanged,
)
from domain.product import (
    ProductChanged,
    ProductCreated,
    ProductDeactivated,
    ProductMoved,
    ProductReactivated,
    StockAdjusted,
    StockReleased,
    StockReserved,
    StockSold,
    product_documents,
)
from domain.review import ReviewChanged, ReviewCreated, ReviewDeleted
from projector.changes import Change, Row, apply, encode, initial, merge, replay
from readmodels.schema import PROJECTIONS, TABLES

BY_KIND = {p.stream_type: p for p in PROJECTIONS}
AT = dt.datetime(2026, 11, 26, 12, 30, tzinfo=dt.UTC)

CATEGORY: list[Event] = [CategoryCreated(1, "Books")]
PRODUCT: list[Event] = [ProductCreated(4, "Pen", Decimal("1.50"), 10, 1)]
RESERVED: list[Event] = [*PRODUCT, StockReserved(4, 5, 50, 2)]
CLIENT: list[Event] = [
    ClientCreated(7, "Ada", "Lovelace", "ada@example.org", None),
    AddressAdded(70, 7, "Main", "1", "London"),
]
BILL: list[Event] = [BillCreated(9, "B-9", None, AT.date(), Decimal("30.00"), PaymentType.CARD, 7)]
ORDER: list[Event] = [
    OrderPlaced(5, AT, DeliveryMethod.HOME_DELIVERY, Status.PENDING, 7, 9),
    OrderLineAdded(50, 5, 4, 2, Decimal("1.50")),
]
REVIEW: list[Event] = [ReviewCreated(3, 4, 4.5, "A lovely pen indeed")]

# (kind, given, when, the rows it changes: (table, id_key, "upsert" | "delete"))
CASES: list[tuple[str, list[Event], Event, list[tuple[str, int, str]]]] = [
    ("category", [], CATEGORY[0], [("categories", 1, "upsert")]),
    ("category", CATEGORY, CategoryRenamed(1, "Novels", "Books"), [("categories", 1, "upsert")]),
    ("category", CATEGORY, CategoryDeleted(1, "Books"), [("categories", 1, "delete")]),
    ("category", CATEGORY, CategoryProductAttached(1, 4), []),
    ("category", [*CATEGORY, CategoryProductAttached(1, 4)], CategoryProductDetached(1, 4), []),
    ("product", [], PRODUCT[0], [("products", 4, "upsert")]),
    ("product", PRODUCT, ProductChanged(4, "Ink", Decimal("2.00")), [("products", 4, "upsert")]),
    ("product", PRODUCT, ProductMoved(4, 2, 1), [("products", 4, "upsert")]),
    ("product", PRODUCT, StockAdjusted(4, 20, 10), [("products", 4, "upsert")]),
    ("product", PRODUCT, ProductDeactivated(4), [("products", 4, "upsert")]),
    ("product", [*PRODUCT, ProductDeactivated(4)], ProductReactivated(4),
     [("products", 4, "upsert")]),
    ("product", PRODUCT, StockReserved(4, 5, 50, 2), [("products", 4, "upsert")]),
    ("product", RESERVED, StockReleased(4, 5, 50, 2), [("products", 4, "upsert")]),
    ("product", RESERVED, StockSold(4, 5, 50, 2), []),  # reserved units sold: stock unchanged
    ("client", [], CLIENT[0], [("clients", 7, "upsert")]),
    ("client", CLIENT, ClientChanged(7, "Ada", "King", "+44123"), [("clients", 7, "upsert")]),
    ("client", CLIENT, ClientEmailChanged(7, "ada@king.org", "ada@example.org"),
     [("clients", 7, "upsert")]),
    ("client", CLIENT, ClientDeleted(7, "ada@example.org", (70,)),
     [("clients", 7, "delete"), ("addresses", 70, "delete")]),
    ("client", CLIENT, AddressAdded(71, 7, "Dock", None, "Leeds"), [("addresses", 71, "upsert")]),
    ("client", CLIENT, AddressChanged(70, 7, "Main", "2", "Paris"), [("addresses", 70, "upsert")]),
    ("client", CLIENT, AddressRemoved(70, 7), [("addresses", 70, "delete")]),
    ("client", CLIENT, PersonalDataErased(7, "ada@example.org"),
     [("clients", 7, "upsert"), ("addresses", 70, "upsert")]),
    ("bill", [], BILL[0], [("bills", 9, "upsert")]),
    ("bill", BILL,
     BillChanged(9, Decimal("5.00"), AT.date(), Decimal("30.00"), PaymentType.CASH, 7),
     [("bills", 9, "upsert")]),
    ("bill", BILL, BillNumberChanged(9, "B-10", "B-9"), [("bills", 9, "upsert")]),
    ("bill", BILL, BillAssigned(9, 5), []),
    ("bill", [*BILL, BillAssigned(9, 5)], BillReleased(9, 5), []),
    ("bill", BILL, BillDeleted(9, "B-9"), [("bills", 9, "delete")]),
    ("order", [], ORDER[0], [("orders", 5, "upsert")]),
    ("order", ORDER, OrderChanged(5, AT, DeliveryMethod.DRIVE_THRU), [("orders", 5, "upsert")]),
    ("order", ORDER, OrderReassigned(5, 8, 10, 7, 9), [("orders", 5, "upsert")]),
    ("order", ORDER, OrderStatusChanged(5, Status.IN_PROGRESS, Status.PENDING),
     [("orders", 5, "upsert")]),
    ("order", ORDER, OrderLineAdded(51, 5, 6, 1, Decimal("3.00")),
     [("orders", 5, "upsert"), ("order_details", 51, "upsert")]),  # the total moves
    ("order", ORDER, OrderLineChanged(50, 5, 4, 3, Decimal("1.50")),
     [("orders", 5, "upsert"), ("order_details", 50, "upsert")]),
    ("order", ORDER, OrderLineRemoved(50, 5),
     [("orders", 5, "upsert"), ("order_details", 50, "delete")]),
    ("order", ORDER, OrderDeleted(5, (50,)),
     [("orders", 5, "delete"), ("order_details", 50, "delete")]),
    ("review", [], REVIEW[0], [("reviews", 3, "upsert")]),
    ("review", REVIEW, ReviewChanged(3, 4, 5.0, None), [("reviews", 3, "upsert")]),
    ("review", REVIEW, ReviewDeleted(3, 4), [("reviews", 3, "delete")]),
]  # fmt: skip


def _api_documents(table: str, state: Any) -> dict[int, dict[str, Any]]:
    """What the command API renders for a state (the same catalogue entry it uses)."""
    return {d["id_key"]: d for d in BY_NAME[table].documents(state)}


def test_every_event_type_has_a_case() -> None:
    assert {type(when).type_name for _, _, when, _ in CASES} == set(EVENT_TYPES)


@pytest.mark.parametrize(
    ("kind", "given", "when", "rows"), CASES, ids=lambda v: getattr(v, "type_name", None)
)
def test_an_event_changes_exactly_the_rows_it_should(
    kind: str, given: list[Event], when: Event, rows: list[tuple[str, int, str]]
) -> None:
    projection = BY_KIND[kind]
    folded, changes = apply(projection, replay(projection, given), [when], 42)

    assert [
        (c.table, c.id_key, "delete" if c.document is None else "upsert") for c in changes
    ] == rows
    assert all(c.position == 42 for c in changes)
    assert folded.version == len(given) + 1
    for c in changes:
        assert c.table in {t.name for t in projection.tables}
        assert c.document == _api_documents(c.table, folded.state).get(c.id_key)


def test_documents_are_the_bytes_the_api_sends() -> None:
    projection = BY_KIND["product"]
    _, (change,) = apply(projection, initial(projection), PRODUCT, 7)

    assert encode(TABLES["products"], change) == Row(
        4,
        b'{"id_key":4,"name":"Pen","price":1.5,"stock":10,"category_id":1,"active":true}',
        7,
        (1, True),
    )
    assert encode(TABLES["products"], change).doc == orjson.dumps(
        product_documents(replay(projection, PRODUCT).state)[0]
    )


def test_a_batch_of_one_stream_is_rendered_once_as_of_its_last_event() -> None:
    projection = BY_KIND["order"]
    events = [*ORDER, OrderLineAdded(51, 5, 6, 1, Decimal("3.00")), OrderLineRemoved(50, 5)]
    _, changes = apply(projection, initial(projection), events, 99)

    assert sorted((c.table, c.id_key) for c in changes) == [("order_details", 51), ("orders", 5)]
    assert {c.position for c in changes} == {99}


def test_a_deleted_row_stays_deleted_when_nothing_else_holds_it() -> None:
    gone = Change("addresses", 70, None, 10)
    assert merge([gone]) == [gone]


def test_a_moved_address_keeps_the_client_that_holds_it_at_the_later_position() -> None:
    removed = Change("addresses", 70, None, 11)  # from client 7's stream
    added = Change("addresses", 70, {"id_key": 70, "client_id": 8}, 12)  # into client 8's
    later = Change("addresses", 70, None, 14)  # client 7 again, about something else: no

    assert merge([removed, added]) == [Change("addresses", 70, added.document, 12)]
    assert merge([added, later]) == [Change("addresses", 70, added.document, 14)]


def test_the_domain_removes_before_it_adds_when_moving_an_address() -> None:
    """What `merge` and the feed order rely on: a move appends the removal first."""
    holder = ClientState(7, "Ada", None, None, None, (Address(70, "Main", None, "London"),))
    target = ClientState(8, "Bob", None, None, None)
    decided = change_address(holder, target, ChangeAddress(70, client_id=8))

    assert list(decided) == ["client-7", "client-8"]
    assert type(decided["client-7"][0]).__name__ == "AddressRemoved"

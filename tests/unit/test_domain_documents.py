"""The flat documents the REST API serves."""

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from domain.bill import BillState, bill_documents
from domain.category import CategoryState, category_documents
from domain.client import Address, ClientState, address_documents, client_documents
from domain.entity import Document
from domain.enums import DeliveryMethod, PaymentType, Status
from domain.order import OrderLine, OrderState, order_detail_documents, order_documents
from domain.product import ProductState, product_documents
from domain.review import ReviewState, review_documents


def _one(documents: Callable[[Any], list[Document]]) -> Callable[[Any], Document | None]:
    """An entity kept in its own stream: its one document, or None."""
    return lambda state: next(iter(documents(state)), None)


category_document = _one(category_documents)
product_document = _one(product_documents)
client_document = _one(client_documents)
bill_document = _one(bill_documents)
order_document = _one(order_documents)
review_document = _one(review_documents)

DATE = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)


def test_documents_use_the_original_field_names_and_json_types() -> None:
    assert category_document(CategoryState(1, "Books", frozenset({4}))) == {
        "id_key": 1,
        "name": "Books",
    }
    assert product_document(ProductState(4, "Pen", Decimal("1.50"), 3, 1, active=False)) == {
        "id_key": 4,
        "name": "Pen",
        "price": 1.5,
        "stock": 3,
        "category_id": 1,
        "active": False,
    }
    assert review_document(ReviewState(2, 4, 4.5, None)) == {
        "id_key": 2,
        "rating": 4.5,
        "comment": None,
        "product_id": 4,
    }


def test_a_client_and_its_addresses_are_separate_documents() -> None:
    state = ClientState(1, "Ada", "L", None, "1234567", (Address(10, "Main", None, "London"),))

    assert client_document(state) == {
        "id_key": 1,
        "name": "Ada",
        "lastname": "L",
        "email": None,
        "telephone": "1234567",
    }
    assert address_documents(state) == [
        {"id_key": 10, "street": "Main", "number": None, "city": "London", "client_id": 1}
    ]


def test_bill_and_order_documents_carry_iso_dates_numbers_and_int_enums() -> None:
    bill = BillState(3, "B-3", None, DATE.date(), Decimal("99.90"), PaymentType.CREDIT, 1, 7)
    order = OrderState(
        7,
        DATE,
        DeliveryMethod.HOME_DELIVERY,
        Status.IN_PROGRESS,
        1,
        3,
        (OrderLine(1, 4, 2, Decimal("1.50")), OrderLine(2, 5, 1, Decimal("0.10"))),
    )

    assert bill_document(bill) == {
        "id_key": 3,
        "bill_number": "B-3",
        "discount": None,
        "date": "2024-05-06",
        "total": 99.9,
        "payment_type": 4,
        "client_id": 1,
    }
    discounted = BillState(3, "B", Decimal(1), DATE.date(), Decimal(2), PaymentType.CASH, 1)
    assert (bill_document(discounted) or {})["discount"] == 1.0
    assert order_document(order) == {
        "id_key": 7,
        "date": "2024-05-06T07:08:09+00:00",
        "total": 3.1,
        "delivery_method": 3,
        "status": 2,
        "client_id": 1,
        "bill_id": 3,
    }
    assert order_detail_documents(order)[0] == {
        "id_key": 1,
        "quantity": 2,
        "price": 1.5,
        "order_id": 7,
        "product_id": 4,
    }


def test_absent_and_deleted_entities_have_no_document() -> None:
    assert category_document(None) is None
    assert category_document(CategoryState(1, "x", deleted=True)) is None
    assert product_document(None) is None
    assert client_document(ClientState(1, None, None, None, None, deleted=True)) is None
    assert address_documents(None) == []
    assert bill_document(None) is None
    assert order_document(None) is None
    assert order_detail_documents(None) == []
    assert review_document(ReviewState(1, 1, 1.0, None, deleted=True)) is None

"""The flat JSON documents the REST API serves, from aggregate states.

Field names are the original API's; money travels as JSON numbers (floats, as the original
did), dates as ISO strings, enums as ints. Each function returns None for a state the API must
not show (never created, or tombstoned); an inactive product is still shown, `active: false`.
"""

from typing import Any, TypeAlias

from domain.bill import BillState
from domain.category import CategoryState
from domain.client import Address, ClientState
from domain.order import OrderLine, OrderState
from domain.product import ProductState
from domain.review import ReviewState

Document: TypeAlias = dict[str, Any]


def category_document(state: CategoryState | None) -> Document | None:
    if state is None or state.deleted:
        return None
    return {"id_key": state.id_key, "name": state.name}


def product_document(state: ProductState | None) -> Document | None:
    if state is None:
        return None
    return {
        "id_key": state.id_key,
        "name": state.name,
        "price": float(state.price),
        "stock": state.stock,
        "category_id": state.category_id,
        "active": state.active,
    }


def client_document(state: ClientState | None) -> Document | None:
    if state is None or state.deleted:
        return None
    return {
        "id_key": state.id_key,
        "name": state.name,
        "lastname": state.lastname,
        "email": state.email,
        "telephone": state.telephone,
    }


def address_documents(state: ClientState | None) -> list[Document]:
    """The client's addresses, each its own document (`/addresses`)."""
    if state is None or state.deleted:
        return []
    return [address_document(state.id_key, address) for address in state.addresses]


def address_document(client_id: int, address: Address) -> Document:
    return {
        "id_key": address.id_key,
        "street": address.street,
        "number": address.number,
        "city": address.city,
        "client_id": client_id,
    }


def bill_document(state: BillState | None) -> Document | None:
    if state is None or state.deleted:
        return None
    return {
        "id_key": state.id_key,
        "bill_number": state.bill_number,
        "discount": None if state.discount is None else float(state.discount),
        "date": state.date.isoformat(),
        "total": float(state.total),
        "payment_type": int(state.payment_type),
        "client_id": state.client_id,
    }


def order_document(state: OrderState | None) -> Document | None:
    if state is None or state.deleted:
        return None
    return {
        "id_key": state.id_key,
        "date": state.date.isoformat(),
        "total": float(state.total),
        "delivery_method": int(state.delivery_method),
        "status": int(state.status),
        "client_id": state.client_id,
        "bill_id": state.bill_id,
    }


def order_detail_documents(state: OrderState | None) -> list[Document]:
    """The order's lines, each its own document (`/order_details`)."""
    if state is None or state.deleted:
        return []
    return [order_detail_document(state.id_key, line) for line in state.lines]


def order_detail_document(order_id: int, line: OrderLine) -> Document:
    return {
        "id_key": line.id_key,
        "quantity": line.quantity,
        "price": float(line.price),
        "order_id": order_id,
        "product_id": line.product_id,
    }


def review_document(state: ReviewState | None) -> Document | None:
    if state is None or state.deleted:
        return None
    return {
        "id_key": state.id_key,
        "rating": state.rating,
        "comment": state.comment,
        "product_id": state.product_id,
    }

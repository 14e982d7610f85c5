"""Orders and their lines in the catalogue: documents, bodies, filters (`domain.entity`)."""

import datetime as dt
from typing import Any, get_args

from pydantic import BaseModel, Field

from domain.bodies import Body, Id, Price, Quantity
from domain.claims import Claim
from domain.entity import Aggregate, Claims, Document, Entity, ListFilters, Owner
from domain.enums import DeliveryMethod, Status
from domain.events import Event
from domain.order._decider import KIND, OrderLine, OrderState, decider
from domain.order._decisions import SPECS as ORDER_SPECS
from domain.order._lines import ORDER_DETAIL
from domain.order._lines import SPECS as LINE_SPECS
from domain.order._messages import (
    AddOrderLine,
    ChangeOrder,
    ChangeOrderLine,
    DeleteOrder,
    OrderDeleted,
    OrderEvent,
    OrderLineAdded,
    OrderLineChanged,
    OrderLineRemoved,
    PlaceOrder,
    RemoveOrderLine,
)


class OrderCreate(Body):
    date: dt.datetime | None = Field(default=None, description="Server time when omitted.")
    total: float | None = Field(default=None, description="Accepted and ignored: derived.")
    delivery_method: DeliveryMethod
    status: Status = Status.PENDING
    client_id: Id
    bill_id: Id


class OrderChange(Body):
    date: dt.datetime | None = None
    total: float | None = Field(default=None, description="Accepted and ignored: derived.")
    delivery_method: DeliveryMethod | None = None
    status: Status | None = None
    client_id: Id | None = None
    bill_id: Id | None = None


class OrderDetailCreate(Body):
    quantity: Quantity
    price: Price | None = Field(default=None, description="The product's price when omitted.")
    order_id: Id
    product_id: Id


class OrderDetailChange(Body):
    quantity: Quantity | None = None
    price: Price | None = None
    order_id: Id | None = None
    product_id: Id | None = None


class OrderDocument(BaseModel):
    id_key: int
    date: dt.datetime
    total: float
    delivery_method: DeliveryMethod
    status: Status
    client_id: int
    bill_id: int


class OrderDetailDocument(BaseModel):
    id_key: int
    quantity: int
    price: float
    order_id: int
    product_id: int


class OrderFilters(ListFilters):
    client_id: Id | None = Field(default=None, description="Only this client's orders.")
    status: Status | None = Field(default=None, description="Only orders in this status.")


class OrderDetailFilters(ListFilters):
    order_id: Id | None = Field(default=None, description="Only this order's lines.")
    product_id: Id | None = Field(default=None, description="Only lines of this product.")


def order_documents(state: OrderState | None) -> list[Document]:
    if state is None or state.deleted:
        return []
    return [
        {
            "id_key": state.id_key,
            "date": state.date.isoformat(),
            "total": float(state.total),
            "delivery_method": int(state.delivery_method),
            "status": int(state.status),
            "client_id": state.client_id,
            "bill_id": state.bill_id,
        }
    ]


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


def order_detail_locator(line_id: int) -> Claim:
    return Claim(ORDER_DETAIL, str(line_id))


def claims_of(event: Event) -> Claims:
    match event:
        case OrderLineAdded(id_key=id_key):
            return [order_detail_locator(id_key)], []
        case OrderLineRemoved(id_key=id_key):
            return [], [order_detail_locator(id_key)]
        case OrderDeleted(line_ids=line_ids):
            return [], [order_detail_locator(line) for line in line_ids]
        case _:
            return [], []


def _dated(fields: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """An order placed without a date is placed now."""
    return {**fields, "date": fields.get("date") or now}


ORDERS = Entity(
    "orders", "Order", "Orders", KIND, "order", order_documents,
    OrderDocument, OrderCreate, OrderChange,
    PlaceOrder, ChangeOrder, DeleteOrder,
    filters=OrderFilters,
    indexed=("client_id", "status"),
    shapes=(("client_id",), ("status",), ("client_id", "status")),
    ignored=frozenset({"total"}),
    fill=_dated,
)  # fmt: skip

ORDER_DETAILS = Entity(
    "order_details", "OrderDetail", "Order details", KIND, "order_detail",
    order_detail_documents,
    OrderDetailDocument, OrderDetailCreate, OrderDetailChange,
    AddOrderLine, ChangeOrderLine, RemoveOrderLine,
    filters=OrderDetailFilters,
    indexed=("order_id", "product_id"),
    shapes=(("order_id",), ("product_id",), ("order_id", "product_id")),
    owner=Owner(
        "order_id", ORDER_DETAIL, (OrderLineAdded, OrderLineChanged, OrderLineRemoved),
        OrderDeleted, "line_ids",
    ),
)  # fmt: skip

AGGREGATE = Aggregate(
    KIND,
    decider,
    OrderState,
    get_args(OrderEvent),
    (ORDERS, ORDER_DETAILS),
    ORDER_SPECS + LINE_SPECS,
    claims_of,
    {ORDER_DETAIL: ("OrderDetail with id {} already exists", "duplicate_id")},
)

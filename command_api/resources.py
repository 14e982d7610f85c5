"""The eight resources, declared once: their bodies, commands, and how to find their document.

Every route, the OpenAPI schema and the generic command path are built from this table; adding a
resource means adding a row, not a stack of controller/service/repository classes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from command_api import bodies
from domain import bill, category, client, documents, order, product, review, streams
from domain.decisions import EdgeCommand
from domain.streams import parse_stream_id

States = Mapping[str, Any]  # stream id -> folded state, after the write
Document = dict[str, Any]


Found = tuple[Document, str]  # the document and the stream that holds it


def _own(kind: str, to_document: Callable[[Any], Document | None]) -> Callable[..., Any]:
    def find(states: States, id_key: int) -> Found | None:
        stream = streams.stream_id(kind, id_key)
        doc = to_document(states.get(stream))
        return None if doc is None else (doc, stream)

    return find


def _within(kind: str, to_documents: Callable[[Any], list[Document]]) -> Callable[..., Any]:
    """A sub-entity (an address, an order line): look for it in every state of its owner kind."""

    def find(states: States, id_key: int) -> Found | None:
        for stream, state in states.items():
            if parse_stream_id(stream)[0] == kind:
                for doc in to_documents(state):
                    if doc["id_key"] == id_key:
                        return doc, stream
        return None

    return find


def _order_date(fields: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    return {**fields, "date": fields.get("date") or now}


@dataclass(frozen=True, slots=True)
class Resource:
    path: str  # "/categories"
    tag: str
    sequence: str  # the id sequence of new entities
    owner_kind: str  # the stream kind that holds the entity (its version is the ETag)
    create_body: type[BaseModel]
    change_body: type[BaseModel]
    create: type[Any]
    change: type[Any]
    delete: type[Any]
    find: Callable[[States, int], Found | None]
    ignored: frozenset[str] = frozenset()  # accepted for compatibility, never used
    fill: Callable[[dict[str, Any], dt.datetime], dict[str, Any]] = field(
        default=lambda fields, _now: fields
    )

    @property
    def name(self) -> str:
        return self.path.strip("/")

    def create_command(self, id_key: int, body: BaseModel, now: dt.datetime) -> EdgeCommand:
        fields = body.model_dump(exclude={"id_key", *self.ignored})
        command: EdgeCommand = self.create(id_key=id_key, **self.fill(fields, now))
        return command

    def change_command(self, id_key: int, body: BaseModel) -> EdgeCommand:
        sent = body.model_fields_set - {"id_key", *self.ignored}
        command: EdgeCommand = self.change(
            id_key=id_key,
            body_id_key=getattr(body, "id_key", None),
            **{name: getattr(body, name) for name in sent},
        )
        return command

    def delete_command(self, id_key: int) -> EdgeCommand:
        command: EdgeCommand = self.delete(id_key=id_key)
        return command


RESOURCES: tuple[Resource, ...] = (
    Resource(
        "/categories", "Categories", "category", streams.CATEGORY,
        bodies.CategoryCreate, bodies.CategoryChange,
        category.CreateCategory, category.ChangeCategory, category.DeleteCategory,
        _own(streams.CATEGORY, documents.category_document),
    ),
    Resource(
        "/products", "Products", "product", streams.PRODUCT,
        bodies.ProductCreate, bodies.ProductChange,
        product.CreateProduct, product.ChangeProduct, product.DeactivateProduct,
        _own(streams.PRODUCT, documents.product_document),
    ),
    Resource(
        "/clients", "Clients", "client", streams.CLIENT,
        bodies.ClientCreate, bodies.ClientChange,
        client.CreateClient, client.ChangeClient, client.DeleteClient,
        _own(streams.CLIENT, documents.client_document),
    ),
    Resource(
        "/addresses", "Addresses", "address", streams.CLIENT,
        bodies.AddressCreate, bodies.AddressChange,
        client.AddAddress, client.ChangeAddress, client.RemoveAddress,
        _within(streams.CLIENT, documents.address_documents),
    ),
    Resource(
        "/bills", "Bills", "bill", streams.BILL,
        bodies.BillCreate, bodies.BillChange,
        bill.CreateBill, bill.ChangeBill, bill.DeleteBill,
        _own(streams.BILL, documents.bill_document),
    ),
    Resource(
        "/orders", "Orders", "order", streams.ORDER,
        bodies.OrderCreate, bodies.OrderChange,
        order.PlaceOrder, order.ChangeOrder, order.DeleteOrder,
        _own(streams.ORDER, documents.order_document),
        ignored=frozenset({"total"}),
        fill=_order_date,
    ),
    Resource(
        "/order_details", "Order details", "order_detail", streams.ORDER,
        bodies.OrderDetailCreate, bodies.OrderDetailChange,
        order.AddOrderLine, order.ChangeOrderLine, order.RemoveOrderLine,
        _within(streams.ORDER, documents.order_detail_documents),
    ),
    Resource(
        "/reviews", "Reviews", "review", streams.REVIEW,
        bodies.ReviewCreate, bodies.ReviewChange,
        review.CreateReview, review.ChangeReview, review.DeleteReview,
        _own(streams.REVIEW, documents.review_document),
    ),
)  # fmt: skip

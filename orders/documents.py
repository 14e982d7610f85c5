"""The flat JSON documents both APIs serve, as OpenAPI models. The command API renders them from
aggregate states (`domain.documents`), the query API serves them as the projector stored them;
these classes only describe them."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from domain.enums import DeliveryMethod, PaymentType, Status


class CategoryDocument(BaseModel):
    id_key: int
    name: str


class ProductDocument(BaseModel):
    id_key: int
    name: str
    price: float
    stock: int
    category_id: int
    active: bool


class ClientDocument(BaseModel):
    id_key: int
    name: str | None
    lastname: str | None
    email: str | None
    telephone: str | None


class AddressDocument(BaseModel):
    id_key: int
    street: str | None
    number: str | None
    city: str | None
    client_id: int


class BillDocument(BaseModel):
    id_key: int
    bill_number: str
    discount: float | None
    date: dt.date
    total: float
    payment_type: PaymentType
    client_id: int


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


class ReviewDocument(BaseModel):
    id_key: int
    rating: float
    comment: str | None
    product_id: int


BY_RESOURCE: dict[str, type[BaseModel]] = {
    "categories": CategoryDocument,
    "products": ProductDocument,
    "clients": ClientDocument,
    "addresses": AddressDocument,
    "bills": BillDocument,
    "orders": OrderDocument,
    "order_details": OrderDetailDocument,
    "reviews": ReviewDocument,
}

"""Request bodies, one pair per resource: POST (required fields) and PUT (every field optional).

Field names are the domain commands' own, so a body turns into its command generically. The
constraints here give clients FastAPI's 422 field errors early; the domain checks again and never
trusts them. Unknown fields are ignored, as the original API did; a `total` sent for an order is
accepted and ignored (the total is derived from the order's lines).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from domain.enums import DeliveryMethod, PaymentType, Status

# Upper bounds keep numbers inside what PostgreSQL and the documents can hold.
Id = Annotated[int, Field(ge=1, le=2**53)]
Money = Annotated[Decimal, Field(ge=0, le=10**12, max_digits=18, decimal_places=2)]
Price = Annotated[Decimal, Field(gt=0, le=10**12, max_digits=18)]
Quantity = Annotated[int, Field(gt=0, le=10**9)]
Stock = Annotated[int, Field(ge=0, le=2**31 - 1)]


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    id_key: int | None = Field(
        default=None, description="Ignored when equal to the path id; a different one is a 422."
    )


class CategoryCreate(Body):
    name: Annotated[str, Field(min_length=1, max_length=100)]


class CategoryChange(Body):
    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None


class ProductCreate(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    price: Price
    stock: Stock = 0
    category_id: Id


class ProductChange(Body):
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    price: Price | None = None
    stock: Stock | None = None
    category_id: Id | None = None
    active: bool | None = Field(default=None, description="true reactivates, false deactivates")


Name = Annotated[str, Field(min_length=1, max_length=100)]
Telephone = Annotated[str, Field(min_length=7, max_length=20, pattern=r"^\+?[1-9]\d{6,19}$")]
Email = Annotated[str, Field(min_length=3, max_length=254)]


class ClientCreate(Body):
    name: Name | None = None
    lastname: Name | None = None
    email: Email | None = None
    telephone: Telephone | None = None


class ClientChange(ClientCreate):
    pass


class AddressCreate(Body):
    street: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    number: Annotated[str, Field(max_length=20)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    client_id: Id


class AddressChange(Body):
    street: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    number: Annotated[str, Field(max_length=20)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    client_id: Id | None = None


class BillCreate(Body):
    bill_number: Annotated[str, Field(min_length=1, max_length=50)]
    discount: Money | None = None
    date: dt.date
    total: Money
    payment_type: PaymentType
    client_id: Id


class BillChange(Body):
    bill_number: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    discount: Money | None = None
    date: dt.date | None = None
    total: Money | None = None
    payment_type: PaymentType | None = None
    client_id: Id | None = None


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


class ReviewCreate(Body):
    rating: Annotated[float, Field(ge=1.0, le=5.0)]
    comment: Annotated[str, Field(min_length=10, max_length=1000)] | None = None
    product_id: Id


class ReviewChange(Body):
    rating: Annotated[float, Field(ge=1.0, le=5.0)] | None = None
    comment: Annotated[str, Field(min_length=10, max_length=1000)] | None = None
    product_id: Id | None = None

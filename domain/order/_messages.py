"""The commands and events of orders: see `domain.order`."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, TypeAlias

from domain.enums import DeliveryMethod, Status
from domain.patch import UNSET, Unset

# --- commands -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlaceOrder:
    """POST /orders. `date` is filled by the edge with server time when the client omits it;
    a `total` sent by the client is accepted there and dropped (it is derived)."""

    id_key: int
    date: dt.datetime
    delivery_method: DeliveryMethod
    client_id: int
    bill_id: int
    status: Status = Status.PENDING


@dataclass(frozen=True, slots=True)
class ChangeOrder:
    id_key: int
    date: dt.datetime | Unset = UNSET
    delivery_method: DeliveryMethod | Unset = UNSET
    status: Status | Unset = UNSET
    client_id: int | Unset = UNSET
    bill_id: int | Unset = UNSET
    body_id_key: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteOrder:
    """DELETE /orders/{id}: cancels (releasing stock) if open, then tombstones."""

    id_key: int


@dataclass(frozen=True, slots=True)
class AddOrderLine:
    """POST /order_details. `price=None` means "take the product's price"."""

    id_key: int
    order_id: int
    product_id: int
    quantity: int
    price: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ChangeOrderLine:
    """PUT /order_details/{id}. `price=None` means "take the product's price"."""

    id_key: int
    order_id: int | Unset = UNSET
    product_id: int | Unset = UNSET
    quantity: int | Unset = UNSET
    price: Decimal | Unset | None = UNSET
    body_id_key: int | None = None


@dataclass(frozen=True, slots=True)
class RemoveOrderLine:
    id_key: int


OrderCommand: TypeAlias = (
    PlaceOrder | ChangeOrder | DeleteOrder | AddOrderLine | ChangeOrderLine | RemoveOrderLine
)

# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderPlaced:
    type_name: ClassVar[str] = "OrderPlaced"
    schema_version: ClassVar[int] = 1
    id_key: int
    date: dt.datetime
    delivery_method: DeliveryMethod
    status: Status
    client_id: int
    bill_id: int


@dataclass(frozen=True, slots=True)
class OrderChanged:
    """Date and delivery method after the change."""

    type_name: ClassVar[str] = "OrderChanged"
    schema_version: ClassVar[int] = 1
    id_key: int
    date: dt.datetime
    delivery_method: DeliveryMethod


@dataclass(frozen=True, slots=True)
class OrderReassigned:
    type_name: ClassVar[str] = "OrderReassigned"
    schema_version: ClassVar[int] = 1
    id_key: int
    client_id: int
    bill_id: int
    previous_client_id: int
    previous_bill_id: int


@dataclass(frozen=True, slots=True)
class OrderStatusChanged:
    type_name: ClassVar[str] = "OrderStatusChanged"
    schema_version: ClassVar[int] = 1
    id_key: int
    status: Status
    previous_status: Status


@dataclass(frozen=True, slots=True)
class OrderDeleted:
    """Carries its line ids so their locators can be released."""

    type_name: ClassVar[str] = "OrderDeleted"
    schema_version: ClassVar[int] = 1
    id_key: int
    line_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class OrderLineAdded:
    type_name: ClassVar[str] = "OrderLineAdded"
    schema_version: ClassVar[int] = 1
    id_key: int
    order_id: int
    product_id: int
    quantity: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class OrderLineChanged:
    type_name: ClassVar[str] = "OrderLineChanged"
    schema_version: ClassVar[int] = 1
    id_key: int
    order_id: int
    product_id: int
    quantity: int
    price: Decimal


@dataclass(frozen=True, slots=True)
class OrderLineRemoved:
    type_name: ClassVar[str] = "OrderLineRemoved"
    schema_version: ClassVar[int] = 1
    id_key: int
    order_id: int


OrderEvent: TypeAlias = (
    OrderPlaced
    | OrderChanged
    | OrderReassigned
    | OrderStatusChanged
    | OrderDeleted
    | OrderLineAdded
    | OrderLineChanged
    | OrderLineRemoved
)

"""The commands and events of bills: see `domain.bill`."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, TypeAlias

from domain.enums import PaymentType
from domain.patch import UNSET, Unset

# --- commands -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateBill:
    id_key: int
    bill_number: str
    date: dt.date
    total: Decimal
    payment_type: PaymentType
    client_id: int
    discount: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ChangeBill:
    id_key: int
    bill_number: str | Unset = UNSET
    discount: Decimal | Unset | None = UNSET
    date: dt.date | Unset = UNSET
    total: Decimal | Unset = UNSET
    payment_type: PaymentType | Unset = UNSET
    client_id: int | Unset = UNSET
    body_id_key: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteBill:
    id_key: int


@dataclass(frozen=True, slots=True)
class AssignBill:
    """Issued by the order decisions: the bill now backs order `order_id` of `client_id`."""

    id_key: int
    order_id: int
    client_id: int


@dataclass(frozen=True, slots=True)
class ReleaseBill:
    """Issued by the order decisions when order `order_id` takes another bill or is deleted."""

    id_key: int
    order_id: int


BillCommand: TypeAlias = CreateBill | ChangeBill | DeleteBill | AssignBill | ReleaseBill

# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BillCreated:
    type_name: ClassVar[str] = "BillCreated"
    schema_version: ClassVar[int] = 1
    id_key: int
    bill_number: str
    discount: Decimal | None
    date: dt.date
    total: Decimal
    payment_type: PaymentType
    client_id: int


@dataclass(frozen=True, slots=True)
class BillChanged:
    """Every field but the number after the change; the number has its own event."""

    type_name: ClassVar[str] = "BillChanged"
    schema_version: ClassVar[int] = 1
    id_key: int
    discount: Decimal | None
    date: dt.date
    total: Decimal
    payment_type: PaymentType
    client_id: int


@dataclass(frozen=True, slots=True)
class BillNumberChanged:
    type_name: ClassVar[str] = "BillNumberChanged"
    schema_version: ClassVar[int] = 1
    id_key: int
    bill_number: str
    previous_bill_number: str


@dataclass(frozen=True, slots=True)
class BillDeleted:
    type_name: ClassVar[str] = "BillDeleted"
    schema_version: ClassVar[int] = 1
    id_key: int
    bill_number: str


@dataclass(frozen=True, slots=True)
class BillAssigned:
    type_name: ClassVar[str] = "BillAssigned"
    schema_version: ClassVar[int] = 1
    id_key: int
    order_id: int


@dataclass(frozen=True, slots=True)
class BillReleased:
    type_name: ClassVar[str] = "BillReleased"
    schema_version: ClassVar[int] = 1
    id_key: int
    order_id: int


BillEvent: TypeAlias = (
    BillCreated | BillChanged | BillNumberChanged | BillDeleted | BillAssigned | BillReleased
)

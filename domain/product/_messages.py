"""The commands and events of products: see `domain.product`."""

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, TypeAlias

from domain.patch import UNSET, Unset

# --- commands -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateProduct:
    id_key: int
    name: str
    price: Decimal
    category_id: int
    stock: int = 0


@dataclass(frozen=True, slots=True)
class ChangeProduct:
    """PUT /products/{id}: `active=True` reactivates, `active=False` deactivates."""

    id_key: int
    name: str | Unset = UNSET
    price: Decimal | Unset = UNSET
    stock: int | Unset = UNSET
    category_id: int | Unset = UNSET
    active: bool | Unset = UNSET
    body_id_key: int | None = None


@dataclass(frozen=True, slots=True)
class DeactivateProduct:
    """DELETE /products/{id}: a soft delete that keeps the product and its history."""

    id_key: int


@dataclass(frozen=True, slots=True)
class ReserveStock:
    """Issued by the order-line decisions; `additional` picks the message of a quantity raise."""

    id_key: int
    order_id: int
    line_id: int
    quantity: int
    additional: bool = False


@dataclass(frozen=True, slots=True)
class ReleaseStock:
    id_key: int
    order_id: int
    line_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class SellStock:
    """Issued when an order is delivered: its reserved units become sold."""

    id_key: int
    order_id: int
    line_id: int
    quantity: int


ProductCommand: TypeAlias = (
    CreateProduct | ChangeProduct | DeactivateProduct | ReserveStock | ReleaseStock | SellStock
)

# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProductCreated:
    type_name: ClassVar[str] = "ProductCreated"
    schema_version: ClassVar[int] = 1
    id_key: int
    name: str
    price: Decimal
    stock: int
    category_id: int


@dataclass(frozen=True, slots=True)
class ProductChanged:
    """The name and price after the change (both, so the event stands alone)."""

    type_name: ClassVar[str] = "ProductChanged"
    schema_version: ClassVar[int] = 1
    id_key: int
    name: str
    price: Decimal


@dataclass(frozen=True, slots=True)
class ProductMoved:
    type_name: ClassVar[str] = "ProductMoved"
    schema_version: ClassVar[int] = 1
    id_key: int
    category_id: int
    previous_category_id: int


@dataclass(frozen=True, slots=True)
class StockAdjusted:
    """A PUT of `stock`: the only event that changes the number of units in existence."""

    type_name: ClassVar[str] = "StockAdjusted"
    schema_version: ClassVar[int] = 1
    id_key: int
    stock: int
    delta: int


@dataclass(frozen=True, slots=True)
class ProductDeactivated:
    type_name: ClassVar[str] = "ProductDeactivated"
    schema_version: ClassVar[int] = 1
    id_key: int


@dataclass(frozen=True, slots=True)
class ProductReactivated:
    type_name: ClassVar[str] = "ProductReactivated"
    schema_version: ClassVar[int] = 1
    id_key: int


@dataclass(frozen=True, slots=True)
class StockReserved:
    type_name: ClassVar[str] = "StockReserved"
    schema_version: ClassVar[int] = 1
    id_key: int
    order_id: int
    line_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class StockReleased:
    type_name: ClassVar[str] = "StockReleased"
    schema_version: ClassVar[int] = 1
    id_key: int
    order_id: int
    line_id: int
    quantity: int


@dataclass(frozen=True, slots=True)
class StockSold:
    type_name: ClassVar[str] = "StockSold"
    schema_version: ClassVar[int] = 1
    id_key: int
    order_id: int
    line_id: int
    quantity: int


ProductEvent: TypeAlias = (
    ProductCreated
    | ProductChanged
    | ProductMoved
    | StockAdjusted
    | ProductDeactivated
    | ProductReactivated
    | StockReserved
    | StockReleased
    | StockSold
)

"""The commands and events of categories: see `domain.category`."""

from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from domain.patch import UNSET, Unset

# --- commands -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateCategory:
    id_key: int
    name: str


@dataclass(frozen=True, slots=True)
class ChangeCategory:
    id_key: int
    name: str | Unset = UNSET
    body_id_key: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteCategory:
    id_key: int


@dataclass(frozen=True, slots=True)
class AttachProduct:
    """Issued by the product decisions when a product becomes active in this category."""

    id_key: int
    product_id: int


@dataclass(frozen=True, slots=True)
class DetachProduct:
    """Issued by the product decisions when a product leaves or is deactivated."""

    id_key: int
    product_id: int


CategoryCommand: TypeAlias = (
    CreateCategory | ChangeCategory | DeleteCategory | AttachProduct | DetachProduct
)

# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CategoryCreated:
    type_name: ClassVar[str] = "CategoryCreated"
    schema_version: ClassVar[int] = 1
    id_key: int
    name: str


@dataclass(frozen=True, slots=True)
class CategoryRenamed:
    type_name: ClassVar[str] = "CategoryRenamed"
    schema_version: ClassVar[int] = 1
    id_key: int
    name: str
    previous_name: str


@dataclass(frozen=True, slots=True)
class CategoryDeleted:
    type_name: ClassVar[str] = "CategoryDeleted"
    schema_version: ClassVar[int] = 1
    id_key: int
    name: str


@dataclass(frozen=True, slots=True)
class CategoryProductAttached:
    type_name: ClassVar[str] = "CategoryProductAttached"
    schema_version: ClassVar[int] = 1
    id_key: int
    product_id: int


@dataclass(frozen=True, slots=True)
class CategoryProductDetached:
    type_name: ClassVar[str] = "CategoryProductDetached"
    schema_version: ClassVar[int] = 1
    id_key: int
    product_id: int


CategoryEvent: TypeAlias = (
    CategoryCreated
    | CategoryRenamed
    | CategoryDeleted
    | CategoryProductAttached
    | CategoryProductDetached
)

"""Products in the catalogue: their document, bodies and list filters (see `domain.entity`)."""

from typing import Annotated, Any, get_args

from pydantic import BaseModel, Field

from domain.bodies import Body, Id, Price, Stock
from domain.entity import Aggregate, Document, Entity, ListFilters
from domain.product._decider import KIND, ProductState, decider
from domain.product._decisions import SPECS
from domain.product._messages import (
    ChangeProduct,
    CreateProduct,
    DeactivateProduct,
    ProductEvent,
)


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


class ProductDocument(BaseModel):
    id_key: int
    name: str
    price: float
    stock: int
    category_id: int
    active: bool


class ProductFilters(ListFilters):
    category_id: Id | None = Field(default=None, description="Only this category's products.")
    include_inactive: bool = Field(
        default=False, description="Also list deactivated (deleted) products."
    )

    def fields(self) -> dict[str, Any]:
        chosen: dict[str, Any] = {} if self.include_inactive else {"active": True}
        if self.category_id is not None:
            chosen["category_id"] = self.category_id
        return chosen


def product_documents(state: ProductState | None) -> list[Document]:
    """An inactive product is still shown, `active: false`: products are never deleted."""
    if state is None:
        return []
    return [
        {
            "id_key": state.id_key,
            "name": state.name,
            "price": float(state.price),
            "stock": state.stock,
            "category_id": state.category_id,
            "active": state.active,
        }
    ]


PRODUCTS = Entity(
    "products", "Product", "Products", KIND, "product", product_documents,
    ProductDocument, ProductCreate, ProductChange,
    CreateProduct, ChangeProduct, DeactivateProduct,
    filters=ProductFilters,
    indexed=("category_id", "active"),
    shapes=(("category_id",), ("active",), ("category_id", "active")),
)  # fmt: skip

AGGREGATE = Aggregate(KIND, decider, ProductState, get_args(ProductEvent), (PRODUCTS,), SPECS)

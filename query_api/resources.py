"""The eight resources the query API serves, declared once: their read-model table, their
document's OpenAPI model and the filters their list takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from domain.enums import Status
from orders.documents import BY_RESOURCE
from projector.schema import TABLES, Table

ID_MAX = 2**53  # ids travel as JSON numbers: beyond this, clients lose precision
SKIP_MAX = 10**15
LIMIT_MAX = 1000
Id = Annotated[int, Field(ge=1, le=ID_MAX)]


class Filters(BaseModel):
    """A list's query filters; unknown query parameters are ignored, as the original did."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    def fields(self) -> dict[str, Any]:
        """The read-model filter fields and values this query asks for."""
        return {name: int(value) for name, value in self.model_dump(exclude_none=True).items()}


class NoFilters(Filters):
    pass


class ProductFilters(Filters):
    category_id: Id | None = Field(default=None, description="Only this category's products.")
    include_inactive: bool = Field(
        default=False, description="Also list deactivated (deleted) products."
    )

    def fields(self) -> dict[str, Any]:
        chosen: dict[str, Any] = {} if self.include_inactive else {"active": True}
        if self.category_id is not None:
            chosen["category_id"] = self.category_id
        return chosen


class ByClient(Filters):
    client_id: Id | None = Field(default=None, description="Only this client's.")


class OrderFilters(Filters):
    client_id: Id | None = Field(default=None, description="Only this client's orders.")
    status: Status | None = Field(default=None, description="Only orders in this status.")


class OrderDetailFilters(Filters):
    order_id: Id | None = Field(default=None, description="Only this order's lines.")
    product_id: Id | None = Field(default=None, description="Only lines of this product.")


class ByProduct(Filters):
    product_id: Id | None = Field(default=None, description="Only this product's reviews.")


@dataclass(frozen=True, slots=True)
class Resource:
    name: str  # the path without slash: "order_details"
    noun: str  # in messages: "OrderDetail with id 3 not found", as the command API says it
    tag: str
    filters: type[Filters]

    @property
    def path(self) -> str:
        return f"/{self.name}"

    @property
    def table(self) -> Table:
        return TABLES[self.name]

    @property
    def document(self) -> type[BaseModel]:
        return BY_RESOURCE[self.name]


RESOURCES: tuple[Resource, ...] = (
    Resource("categories", "Category", "Categories", NoFilters),
    Resource("products", "Product", "Products", ProductFilters),
    Resource("clients", "Client", "Clients", NoFilters),
    Resource("addresses", "Address", "Addresses", ByClient),
    Resource("bills", "Bill", "Bills", ByClient),
    Resource("orders", "Order", "Orders", OrderFilters),
    Resource("order_details", "OrderDetail", "Order details", OrderDetailFilters),
    Resource("reviews", "Review", "Reviews", ByProduct),
)
BY_NAME: dict[str, Resource] = {r.name: r for r in RESOURCES}

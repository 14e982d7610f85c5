"""Product: name, price, category, and the stock that order lines reserve.

Units are conserved on the product stream: `stock` is what can still be reserved,
`reserved` is held by lines of open orders, `sold` went out with delivered orders, and only
`StockAdjusted` (a PUT of `stock`) changes their sum. Reservations are appended in the same
append as the order line that takes them, with the version that was read, so two orders can
never take the same unit.
"""

from domain.product._decider import (
    KIND,
    NAME_MAX_LENGTH,
    ProductState,
    decide,
    decider,
    evolve,
    require,
    require_active,
)
from domain.product._decisions import change_product, create_product
from domain.product._entity import (
    AGGREGATE,
    PRODUCTS,
    ProductChange,
    ProductCreate,
    ProductDocument,
    ProductFilters,
    product_documents,
)
from domain.product._messages import (
    ChangeProduct,
    CreateProduct,
    DeactivateProduct,
    ProductChanged,
    ProductCommand,
    ProductCreated,
    ProductDeactivated,
    ProductEvent,
    ProductMoved,
    ProductReactivated,
    ReleaseStock,
    ReserveStock,
    SellStock,
    StockAdjusted,
    StockReleased,
    StockReserved,
    StockSold,
)

__all__ = [
    "AGGREGATE",
    "KIND",
    "NAME_MAX_LENGTH",
    "PRODUCTS",
    "ChangeProduct",
    "CreateProduct",
    "DeactivateProduct",
    "ProductChange",
    "ProductChanged",
    "ProductCommand",
    "ProductCreate",
    "ProductCreated",
    "ProductDeactivated",
    "ProductDocument",
    "ProductEvent",
    "ProductFilters",
    "ProductMoved",
    "ProductReactivated",
    "ProductState",
    "ReleaseStock",
    "ReserveStock",
    "SellStock",
    "StockAdjusted",
    "StockReleased",
    "StockReserved",
    "StockSold",
    "change_product",
    "create_product",
    "decide",
    "decider",
    "evolve",
    "product_documents",
    "require",
    "require_active",
]

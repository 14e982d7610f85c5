"""Product: name, price, category, and the stock that order lines reserve.

Units are conserved on the product stream: `stock` is what can still be reserved,
`reserved` is held by lines of open orders, `sold` went out with delivered orders, and only
`StockAdjusted` (a PUT of `stock`) changes their sum. Reservations are appended in the same
append as the order line that takes them, with the version that was read, so two orders can
never take the same unit.
"""

from domain.product._decider import (
    NAME_MAX_LENGTH,
    ProductState,
    decide,
    decider,
    evolve,
    require,
    require_active,
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
    "NAME_MAX_LENGTH",
    "ChangeProduct",
    "CreateProduct",
    "DeactivateProduct",
    "ProductChanged",
    "ProductCommand",
    "ProductCreated",
    "ProductDeactivated",
    "ProductEvent",
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
    "decide",
    "decider",
    "evolve",
    "require",
    "require_active",
]

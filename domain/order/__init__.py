"""Order, with its lines (the original's "order details") in the same stream.

The total is never stored: it is the sum of the lines' quantity x price. Status moves only
forward (PENDING -> IN_PROGRESS -> DELIVERED, steps may be skipped) or from an open status to
CANCELED; DELIVERED and CANCELED are final and a final order no longer changes.

This decider holds the order's own rules. Checking the client, bill and products, and the
stock each line reserves, takes other streams: that is `domain.decisions`, which calls this
decider for the order stream's part with prices already resolved from the product.
"""

from domain.order._decider import (
    FORWARD,
    OPEN,
    OrderLine,
    OrderState,
    changed_order,
    decide,
    decider,
    evolve,
    line_fields,
    require,
    require_line,
    require_open,
)
from domain.order._messages import (
    AddOrderLine,
    ChangeOrder,
    ChangeOrderLine,
    DeleteOrder,
    OrderChanged,
    OrderCommand,
    OrderDeleted,
    OrderEvent,
    OrderLineAdded,
    OrderLineChanged,
    OrderLineRemoved,
    OrderPlaced,
    OrderReassigned,
    OrderStatusChanged,
    PlaceOrder,
    RemoveOrderLine,
)

__all__ = [
    "FORWARD",
    "OPEN",
    "AddOrderLine",
    "ChangeOrder",
    "ChangeOrderLine",
    "DeleteOrder",
    "OrderChanged",
    "OrderCommand",
    "OrderDeleted",
    "OrderEvent",
    "OrderLine",
    "OrderLineAdded",
    "OrderLineChanged",
    "OrderLineRemoved",
    "OrderPlaced",
    "OrderReassigned",
    "OrderState",
    "OrderStatusChanged",
    "PlaceOrder",
    "RemoveOrderLine",
    "changed_order",
    "decide",
    "decider",
    "evolve",
    "line_fields",
    "require",
    "require_line",
    "require_open",
]

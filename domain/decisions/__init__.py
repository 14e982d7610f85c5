"""Decisions that span streams: each takes every state it reads and the command, and returns
the events for every stream it touches (`StreamEvents`), to be appended atomically, each
stream with the version its state was read at.

Each decision's docstring says which states it takes. For one generic command handler,
`primary(command)` names the stream (or the locator claim) a command is decided on,
`reads(command, state)` the other streams it reads, and `decide(command, state, others)`
routes it to its decision: see `domain.decisions._routing`.
"""

from domain.decisions._catalog import (
    change_category,
    change_product,
    change_review,
    create_category,
    create_product,
    create_review,
    deactivate_product,
    delete_category,
    delete_review,
)
from domain.decisions._customers import (
    change_address,
    change_bill,
    change_client,
    create_address,
    create_bill,
    create_client,
    delete_bill,
    delete_client,
    remove_address,
)
from domain.decisions._lines import (
    add_order_line,
    change_order_line,
    remove_order_line,
    resolve_price,
)
from domain.decisions._orders import change_order, delete_order, place_order
from domain.decisions._routing import EdgeCommand, decide, on_own_stream, primary, reads

__all__ = [
    "EdgeCommand",
    "add_order_line",
    "change_address",
    "change_bill",
    "change_category",
    "change_client",
    "change_order",
    "change_order_line",
    "change_product",
    "change_review",
    "create_address",
    "create_bill",
    "create_category",
    "create_client",
    "create_product",
    "create_review",
    "deactivate_product",
    "decide",
    "delete_bill",
    "delete_category",
    "delete_client",
    "delete_order",
    "delete_review",
    "on_own_stream",
    "place_order",
    "primary",
    "reads",
    "remove_address",
    "remove_order_line",
    "resolve_price",
]

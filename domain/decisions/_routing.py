"""One entry point for every edge command, so the command API needs one generic handler:

    target = primary(command)              # a stream id, or a locator claim to resolve
    state = fold(stream the target names)  # None when the stream is empty / no owner
    others = {s: fold(s) for s in reads(command, state)}
    events_by_stream = decide(command, state, others)
    append(events_by_stream, expected versions = the versions just read)

`others` maps stream ids to folded states (None for an empty stream). A stream `reads` named
but missing from `others` is a caller bug and raises `LookupError`.
"""

from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from domain import bill, category, client, order, product, review, validation
from domain.claims import Claim, address_locator, order_detail_locator
from domain.decisions import _catalog, _customers, _lines, _orders
from domain.events import StreamEvents
from domain.patch import UNSET, Unset
from domain.streams import (
    BILL,
    CATEGORY,
    CLIENT,
    ORDER,
    PRODUCT,
    REVIEW,
    parse_stream_id,
    stream_id,
)

EdgeCommand: TypeAlias = (
    category.CreateCategory
    | category.ChangeCategory
    | category.DeleteCategory
    | product.CreateProduct
    | product.ChangeProduct
    | product.DeactivateProduct
    | client.CreateClient
    | client.ChangeClient
    | client.DeleteClient
    | client.AddAddress
    | client.ChangeAddress
    | client.RemoveAddress
    | bill.CreateBill
    | bill.ChangeBill
    | bill.DeleteBill
    | order.PlaceOrder
    | order.ChangeOrder
    | order.DeleteOrder
    | order.AddOrderLine
    | order.ChangeOrderLine
    | order.RemoveOrderLine
    | review.CreateReview
    | review.ChangeReview
    | review.DeleteReview
)
Others: TypeAlias = Mapping[str, Any]

_OWN_KIND: dict[type[Any], str] = {
    category.CreateCategory: CATEGORY,
    category.ChangeCategory: CATEGORY,
    category.DeleteCategory: CATEGORY,
    product.CreateProduct: PRODUCT,
    product.ChangeProduct: PRODUCT,
    product.DeactivateProduct: PRODUCT,
    client.CreateClient: CLIENT,
    client.ChangeClient: CLIENT,
    client.DeleteClient: CLIENT,
    bill.CreateBill: BILL,
    bill.ChangeBill: BILL,
    bill.DeleteBill: BILL,
    order.PlaceOrder: ORDER,
    order.ChangeOrder: ORDER,
    order.DeleteOrder: ORDER,
    review.CreateReview: REVIEW,
    review.ChangeReview: REVIEW,
    review.DeleteReview: REVIEW,
}


def primary(command: EdgeCommand) -> str | Claim:
    """The stream a command is decided on, or the locator claim whose owner stream it is."""
    match command:
        case client.AddAddress(client_id=client_id):
            return stream_id(CLIENT, validation.required("client_id", client_id))
        case order.AddOrderLine(order_id=order_id):
            return stream_id(ORDER, validation.required("order_id", order_id))
        case client.ChangeAddress() | client.RemoveAddress():
            return address_locator(command.id_key)
        case order.ChangeOrderLine() | order.RemoveOrderLine():
            return order_detail_locator(command.id_key)
        case _:
            return stream_id(_OWN_KIND[type(command)], command.id_key)


def on_own_stream(command: EdgeCommand) -> bool:
    """Whether the command is decided on the stream its own `id_key` names (not on a holder's
    stream or a locator's owner): a create under a freshly drawn id has nothing to read."""
    return type(command) in _OWN_KIND


def _sent(kind: str, value: int | Unset | None) -> frozenset[str]:
    """The stream a sent reference names; none when not sent (or sent null: refused later)."""
    if value is None or isinstance(value, Unset):
        return frozenset()
    return frozenset({stream_id(kind, value)})


def reads(command: EdgeCommand, state: Any) -> frozenset[str]:
    """The streams, besides the primary one (whose folded `state` is given), to load."""
    match command:
        case product.CreateProduct() | product.ChangeProduct() | product.DeactivateProduct():
            return _product_reads(state, command)
        case review.CreateReview() | review.ChangeReview():
            return _sent(PRODUCT, command.product_id)
        case client.ChangeAddress():
            return _sent(CLIENT, _elsewhere(command.client_id, state))
        case bill.CreateBill() | bill.ChangeBill():
            return _sent(CLIENT, command.client_id)
        case order.PlaceOrder(client_id=client_id, bill_id=bill_id):
            return _sent(CLIENT, client_id) | _sent(BILL, bill_id)
        case _:
            return _order_reads(state, command)


def _elsewhere(holder_id: int | Unset | None, state: Any) -> int | Unset | None:
    """A sent holder id, unless it names the holder the command is decided on: that stream is
    the primary one, never among the others."""
    return UNSET if state is not None and holder_id == state.id_key else holder_id


def _product_reads(
    state: product.ProductState | None,
    command: product.CreateProduct | product.ChangeProduct | product.DeactivateProduct,
) -> frozenset[str]:
    """The product's category and the one it is sent to: it leaves one and joins the other."""
    current = frozenset() if state is None else {stream_id(CATEGORY, state.category_id)}
    sent = UNSET if isinstance(command, product.DeactivateProduct) else command.category_id
    return frozenset(current) | _sent(CATEGORY, sent)


def _line_products(state: order.OrderState | None) -> frozenset[str]:
    lines = () if state is None else state.lines
    return frozenset(stream_id(PRODUCT, line.product_id) for line in lines)


def _order_reads(state: Any, command: EdgeCommand) -> frozenset[str]:
    match command:
        case order.ChangeOrder():
            return _change_order_reads(state, command)
        case order.DeleteOrder():
            bills = frozenset() if state is None else {stream_id(BILL, state.bill_id)}
            return frozenset(bills) | _line_products(state)
        case order.AddOrderLine(product_id=product_id):
            return _sent(PRODUCT, product_id)
        case order.ChangeOrderLine():
            line = None if state is None else state.line(command.id_key)
            own = frozenset() if line is None else {stream_id(PRODUCT, line.product_id)}
            moved = _sent(ORDER, _elsewhere(command.order_id, state))
            return frozenset(own) | _sent(PRODUCT, command.product_id) | moved
        case order.RemoveOrderLine():
            line = None if state is None else state.line(command.id_key)
            return frozenset() if line is None else frozenset({stream_id(PRODUCT, line.product_id)})
        case _:
            return frozenset()


def _change_order_reads(
    state: order.OrderState | None, command: order.ChangeOrder
) -> frozenset[str]:
    if state is None:
        return frozenset()
    result = set(_sent(CLIENT, command.client_id))
    if not isinstance(command.bill_id, Unset) or result:
        result |= {stream_id(BILL, state.bill_id)} | _sent(BILL, command.bill_id)
    if not isinstance(command.status, Unset):
        result |= _line_products(state)
    return frozenset(result)


def _of_kind(others: Others, kind: str) -> dict[int, Any]:
    """The loaded states of one kind, by id_key."""
    states: dict[int, Any] = {}
    for stream, state in others.items():
        stream_kind, id_key = parse_stream_id(stream)
        if stream_kind == kind:
            states[id_key] = state
    return states


def _one(others: Others, kind: str, id_key: int | Unset | None) -> Any:
    """The state of a stream `reads` named (None when a field was not sent)."""
    if id_key is None or isinstance(id_key, Unset):
        return None
    stream = stream_id(kind, id_key)
    if stream not in others:
        raise LookupError(f"this decision reads {stream}: load it first")
    return others[stream]


Route: TypeAlias = Callable[[Any, Any, Others], StreamEvents]

_ROUTES: dict[type[Any], Route] = {
    category.CreateCategory: lambda c, s, _: _catalog.create_category(s, c),
    category.ChangeCategory: lambda c, s, _: _catalog.change_category(s, c),
    category.DeleteCategory: lambda c, s, _: _catalog.delete_category(s, c),
    product.CreateProduct: lambda c, s, o: _catalog.create_product(
        s, _one(o, CATEGORY, c.category_id), c
    ),
    product.ChangeProduct: lambda c, s, o: _catalog.change_product(s, _of_kind(o, CATEGORY), c),
    product.DeactivateProduct: lambda c, s, o: _catalog.deactivate_product(
        s, _of_kind(o, CATEGORY), c
    ),
    review.CreateReview: lambda c, s, o: _catalog.create_review(
        s, _one(o, PRODUCT, c.product_id), c
    ),
    review.ChangeReview: lambda c, s, o: _catalog.change_review(
        s, _one(o, PRODUCT, c.product_id), c
    ),
    review.DeleteReview: lambda c, s, _: _catalog.delete_review(s, c),
    client.CreateClient: lambda c, s, _: _customers.create_client(s, c),
    client.ChangeClient: lambda c, s, _: _customers.change_client(s, c),
    client.DeleteClient: lambda c, s, _: _customers.delete_client(s, c),
    client.AddAddress: lambda c, s, _: _customers.create_address(s, c),
    client.ChangeAddress: lambda c, s, o: _customers.change_address(
        s, _one(o, CLIENT, _elsewhere(c.client_id, s)), c
    ),
    client.RemoveAddress: lambda c, s, _: _customers.remove_address(s, c),
    bill.CreateBill: lambda c, s, o: _customers.create_bill(s, _one(o, CLIENT, c.client_id), c),
    bill.ChangeBill: lambda c, s, o: _customers.change_bill(s, _one(o, CLIENT, c.client_id), c),
    bill.DeleteBill: lambda c, s, _: _customers.delete_bill(s, c),
    order.PlaceOrder: lambda c, s, o: _orders.place_order(
        s, _one(o, CLIENT, c.client_id), _one(o, BILL, c.bill_id), c
    ),
    order.ChangeOrder: lambda c, s, o: _orders.change_order(
        s, _of_kind(o, CLIENT), _of_kind(o, BILL), _of_kind(o, PRODUCT), c
    ),
    order.DeleteOrder: lambda c, s, o: _orders.delete_order(
        s, _one(o, BILL, s.bill_id) if s is not None else None, _of_kind(o, PRODUCT), c
    ),
    order.AddOrderLine: lambda c, s, o: _lines.add_order_line(s, _one(o, PRODUCT, c.product_id), c),
    order.ChangeOrderLine: lambda c, s, o: _lines.change_order_line(
        s, _one(o, ORDER, _elsewhere(c.order_id, s)), _of_kind(o, PRODUCT), c
    ),
    order.RemoveOrderLine: lambda c, s, o: _lines.remove_order_line(s, _of_kind(o, PRODUCT), c),
}


def decide(command: EdgeCommand, state: Any, others: Others) -> StreamEvents:
    """Route an edge command to its decision, with its primary state and the others read."""
    return _ROUTES[type(command)](command, state, others)

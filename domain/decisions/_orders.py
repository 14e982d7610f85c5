"""Decisions on orders: their client and bill, their status, and the stock of their lines."""

from collections.abc import Mapping

from domain import bill, client, order, product
from domain.bill import AssignBill, BillCommand, BillState, ReleaseBill
from domain.client import ClientState
from domain.decider import fold
from domain.decisions._fanout import decide_each, lookup, merged, on
from domain.enums import Status
from domain.events import StreamEvents
from domain.order import ChangeOrder, DeleteOrder, OrderState, PlaceOrder
from domain.product import ProductCommand, ProductState, ReleaseStock, SellStock
from domain.streams import BILL, CLIENT, ORDER, PRODUCT


def place_order(
    state: OrderState | None,
    client_state: ClientState | None,
    bill_state: BillState | None,
    command: PlaceOrder,
) -> StreamEvents:
    """Order stream + its bill's (which records the order it now backs).

    The client is checked first, then the bill (404 each); the bill must be the client's and
    back no other order (409).
    """
    events = order.decide(state, command)
    client.require(client_state, command.client_id)
    assign = AssignBill(command.bill_id, command.id_key, command.client_id)
    return merged(
        on(ORDER, command.id_key, events),
        on(BILL, command.bill_id, bill.decide(bill_state, assign)),
    )


def change_order(
    state: OrderState | None,
    clients: Mapping[int, ClientState | None],
    bills: Mapping[int, BillState | None],
    products: Mapping[int, ProductState | None],
    command: ChangeOrder,
) -> StreamEvents:
    """Order stream + bills (reassignment) + products (cancel releases, delivery sells).

    Needs, as `domain.decisions.reads` lists them: the new client if it changes, the old and
    new bill if either changes, every line's product if the status changes.
    """
    events = order.decide(state, command)
    before = order.require(state, command.id_key)
    after = order.require(fold(order.decider, events, before), command.id_key)
    return merged(
        on(ORDER, command.id_key, events),
        _rebilled(before, after, clients, bills),
        _stock_on_status(after, before.status, products),
    )


def delete_order(
    state: OrderState | None,
    bill_state: BillState | None,
    products: Mapping[int, ProductState | None],
    command: DeleteOrder,
) -> StreamEvents:
    """Cancels an open order (releasing its lines' stock), tombstones it and frees its bill.

    `bill_state` is the order's bill's; `products` holds every line's product. A delivered
    order cannot be deleted (409).
    """
    events = order.decide(state, command)
    before = order.require(state, command.id_key)
    release = ReleaseBill(before.bill_id, before.id_key)
    return merged(
        on(ORDER, command.id_key, events),
        _each_line(before, ReleaseStock, products) if before.is_open else {},
        on(BILL, before.bill_id, bill.decide(bill_state, release)),
    )


def _rebilled(
    before: OrderState,
    after: OrderState,
    clients: Mapping[int, ClientState | None],
    bills: Mapping[int, BillState | None],
) -> StreamEvents:
    if (after.client_id, after.bill_id) == (before.client_id, before.bill_id):
        return {}
    if after.client_id != before.client_id:
        client.require(lookup(clients, CLIENT, after.client_id), after.client_id)
    commands: list[tuple[int, BillCommand]] = [
        (after.bill_id, AssignBill(after.bill_id, after.id_key, after.client_id))
    ]
    if after.bill_id != before.bill_id:
        commands.append((before.bill_id, ReleaseBill(before.bill_id, before.id_key)))
    return decide_each(bill.decider, BILL, bills, commands)


def _stock_on_status(
    after: OrderState, previous: Status, products: Mapping[int, ProductState | None]
) -> StreamEvents:
    """Cancelling releases every line's units; delivering turns them into sold units."""
    if after.status is previous:
        return {}
    if after.status is Status.CANCELED:
        return _each_line(after, ReleaseStock, products)
    if after.status is Status.DELIVERED:
        return _each_line(after, SellStock, products)
    return {}


def _each_line(
    state: OrderState,
    kind: type[ReleaseStock | SellStock],
    products: Mapping[int, ProductState | None],
) -> StreamEvents:
    commands: list[tuple[int, ProductCommand]] = [
        (line.product_id, kind(line.product_id, state.id_key, line.id_key, line.quantity))
        for line in state.lines
    ]
    return decide_each(product.decider, PRODUCT, products, commands)

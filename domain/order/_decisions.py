"""The order commands' decisions and specs: an order, its client and bill, and the stock of its
lines (order lines themselves are `_lines`)."""

from collections.abc import Mapping

from domain import bill, client, product
from domain.bill import AssignBill, BillCommand, BillState, ReleaseBill
from domain.client import ClientState
from domain.decider import fold
from domain.decision import Each, One, Read, Spec, decide_each, lookup, merged, on, own, sent
from domain.enums import Status
from domain.events import StreamEvents
from domain.order._decider import KIND, OrderState, decide, decider, require
from domain.order._messages import ChangeOrder, DeleteOrder, PlaceOrder
from domain.patch import Unset
from domain.product import ProductCommand, ProductState, ReleaseStock, SellStock


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
    events = decide(state, command)
    client.require(client_state, command.client_id)
    assign = AssignBill(command.bill_id, command.id_key, command.client_id)
    return merged(
        on(KIND, command.id_key, events),
        on(bill.KIND, command.bill_id, bill.decide(bill_state, assign)),
    )


def change_order(
    state: OrderState | None,
    clients: Mapping[int, ClientState | None],
    bills: Mapping[int, BillState | None],
    products: Mapping[int, ProductState | None],
    command: ChangeOrder,
) -> StreamEvents:
    """Order stream + bills (reassignment) + products (cancel releases, delivery sells).

    Reads (`_change_reads`): the new client if it changes, the old and new bill if either
    changes, every line's product if the status changes.
    """
    events = decide(state, command)
    before = require(state, command.id_key)
    after = require(fold(decider, events, before), command.id_key)
    return merged(
        on(KIND, command.id_key, events),
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
    events = decide(state, command)
    before = require(state, command.id_key)
    release = ReleaseBill(before.bill_id, before.id_key)
    return merged(
        on(KIND, command.id_key, events),
        _each_line(before, ReleaseStock, products) if before.is_open else {},
        on(bill.KIND, before.bill_id, bill.decide(bill_state, release)),
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
        client.require(lookup(clients, client.KIND, after.client_id), after.client_id)
    commands: list[tuple[int, BillCommand]] = [
        (after.bill_id, AssignBill(after.bill_id, after.id_key, after.client_id))
    ]
    if after.bill_id != before.bill_id:
        commands.append((before.bill_id, ReleaseBill(before.bill_id, before.id_key)))
    return decide_each(bill.decider, bill.KIND, bills, commands)


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
    return decide_each(product.decider, product.KIND, products, commands)


def line_products(state: OrderState | None) -> frozenset[int]:
    return frozenset() if state is None else frozenset(line.product_id for line in state.lines)


def _change_reads(command: ChangeOrder, state: OrderState | None) -> tuple[Read, ...]:
    clients, bills, products = frozenset[int](), frozenset[int](), frozenset[int]()
    if state is not None:
        clients = sent(command.client_id)
        if not isinstance(command.bill_id, Unset) or clients:
            bills = frozenset({state.bill_id}) | sent(command.bill_id)
        if not isinstance(command.status, Unset):
            products = line_products(state)
    return Each(client.KIND, clients), Each(bill.KIND, bills), Each(product.KIND, products)


def _delete_reads(_command: DeleteOrder, state: OrderState | None) -> tuple[Read, ...]:
    bill_id = None if state is None else state.bill_id
    return One(bill.KIND, bill_id), Each(product.KIND, line_products(state))


SPECS: tuple[Spec, ...] = (
    own(
        KIND, PlaceOrder, place_order,
        lambda c, _: (One(client.KIND, c.client_id), One(bill.KIND, c.bill_id)),
    ),
    own(KIND, ChangeOrder, change_order, _change_reads),
    own(KIND, DeleteOrder, delete_order, _delete_reads),
)  # fmt: skip

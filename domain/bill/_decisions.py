"""The bill commands' decisions and specs: a bill, and the client it is for."""

from domain import client
from domain.bill._decider import KIND, BillState, decide, require
from domain.bill._messages import ChangeBill, CreateBill, DeleteBill
from domain.client import ClientState
from domain.decision import One, Spec, on, own, require_moved
from domain.events import StreamEvents


def create_bill(
    state: BillState | None, client_state: ClientState | None, command: CreateBill
) -> StreamEvents:
    """`client_state` is client `command.client_id`'s; missing or deleted: 404."""
    events = decide(state, command)
    client.require(client_state, command.client_id)
    return on(KIND, command.id_key, events)


def change_bill(
    state: BillState | None, client_state: ClientState | None, command: ChangeBill
) -> StreamEvents:
    """`client_state` is client `command.client_id`'s when that is sent (else unused).

    A bill of a deleted client stays editable; only moving it to a client checks that one.
    """
    events = decide(state, command)
    current = require(state, command.id_key).client_id
    require_moved(command.client_id, current, client_state, client.require)
    return on(KIND, command.id_key, events)


def delete_bill(state: BillState | None, command: DeleteBill) -> StreamEvents:
    """409 while it backs an order."""
    return on(KIND, command.id_key, decide(state, command))


SPECS: tuple[Spec, ...] = (
    own(KIND, CreateBill, create_bill, lambda c, _: (One(client.KIND, c.client_id),)),
    own(KIND, ChangeBill, change_bill, lambda c, _: (One(client.KIND, c.client_id),)),
    own(KIND, DeleteBill, delete_bill),
)

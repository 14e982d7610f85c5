"""Decisions on clients (with their addresses) and bills."""

from domain import bill, client, validation
from domain.bill import BillState, ChangeBill, CreateBill, DeleteBill
from domain.client import (
    AddAddress,
    ChangeAddress,
    ChangeClient,
    ClientState,
    CreateClient,
    DeleteClient,
    RemoveAddress,
)
from domain.decisions._fanout import merged, on
from domain.events import StreamEvents
from domain.patch import pick
from domain.streams import BILL, CLIENT


def create_client(state: ClientState | None, command: CreateClient) -> StreamEvents:
    return on(CLIENT, command.id_key, client.decide(state, command))


def change_client(state: ClientState | None, command: ChangeClient) -> StreamEvents:
    return on(CLIENT, command.id_key, client.decide(state, command))


def delete_client(state: ClientState | None, command: DeleteClient) -> StreamEvents:
    """Tombstones the client and its addresses; its bills and orders stay as history."""
    return on(CLIENT, command.id_key, client.decide(state, command))


def create_address(client_state: ClientState | None, command: AddAddress) -> StreamEvents:
    """`client_state` is client `command.client_id`'s; missing or deleted: 404."""
    return on(CLIENT, command.client_id, client.decide(client_state, command))


def change_address(
    holder: ClientState | None, target: ClientState | None, command: ChangeAddress
) -> StreamEvents:
    """`holder` is the client whose stream the `address` locator points to (None if none);
    `target` is client `command.client_id`'s when that is sent and differs (else unused).

    Moving an address removes it from the holder and adds it, changed, to the target.
    """
    validation.same_id(command.id_key, command.body_id_key)
    holder_state, address = client.require_address(holder, command.id_key)
    target_id = pick(command.client_id, holder_state.id_key)
    if target_id == holder_state.id_key:
        return on(CLIENT, target_id, client.decide(holder_state, command))
    changed = client.changed_address(address, command)
    add = AddAddress(address.id_key, target_id, changed.street, changed.number, changed.city)
    added = client.decide(target, add)
    removed = client.decide(holder_state, RemoveAddress(address.id_key))
    return merged(on(CLIENT, holder_state.id_key, removed), on(CLIENT, target_id, added))


def remove_address(holder: ClientState | None, command: RemoveAddress) -> StreamEvents:
    """`holder` is the client the `address` locator points to (None if none: 404)."""
    holder_state, _ = client.require_address(holder, command.id_key)
    return on(CLIENT, holder_state.id_key, client.decide(holder_state, command))


def create_bill(
    state: BillState | None, client_state: ClientState | None, command: CreateBill
) -> StreamEvents:
    """`client_state` is client `command.client_id`'s; missing or deleted: 404."""
    events = bill.decide(state, command)
    client.require(client_state, command.client_id)
    return on(BILL, command.id_key, events)


def change_bill(
    state: BillState | None, client_state: ClientState | None, command: ChangeBill
) -> StreamEvents:
    """`client_state` is client `command.client_id`'s when that is sent (else unused).

    A bill of a deleted client stays editable; only moving it to a client checks that one.
    """
    events = bill.decide(state, command)
    current = bill.require(state, command.id_key).client_id
    if (client_id := pick(command.client_id, current)) != current:
        client.require(client_state, client_id)
    return on(BILL, command.id_key, events)


def delete_bill(state: BillState | None, command: DeleteBill) -> StreamEvents:
    """409 while it backs an order."""
    return on(BILL, command.id_key, bill.decide(state, command))

"""The client and address commands' decisions and specs.

Addresses live in their client's stream: a new one is decided on the client it is sent to, a
change or removal on whichever client holds it (found by its locator), and a move to another
client on both.
"""

from domain.client._decider import (
    KIND,
    ClientState,
    changed_address,
    decide,
    require_address,
)
from domain.client._messages import (
    AddAddress,
    ChangeAddress,
    ChangeClient,
    CreateClient,
    DeleteClient,
    EraseClient,
    RemoveAddress,
)
from domain.decision import One, Spec, held, located, merged, on, own
from domain.events import StreamEvents
from domain.patch import pick
from domain.validation import same_id

ADDRESS = "address"  # the locator: address id_key -> the stream of the client holding it


def create_client(state: ClientState | None, command: CreateClient) -> StreamEvents:
    return on(KIND, command.id_key, decide(state, command))


def change_client(state: ClientState | None, command: ChangeClient) -> StreamEvents:
    return on(KIND, command.id_key, decide(state, command))


def delete_client(state: ClientState | None, command: DeleteClient) -> StreamEvents:
    """Tombstones the client and its addresses; its bills and orders stay as history."""
    return on(KIND, command.id_key, decide(state, command))


def erase_client(state: ClientState | None, command: EraseClient) -> StreamEvents:
    """Its personal values go (the events' are sealed, their key is destroyed beside this);
    the client, its addresses' ids, its bills and orders stay."""
    return on(KIND, command.id_key, decide(state, command))


def create_address(client_state: ClientState | None, command: AddAddress) -> StreamEvents:
    """`client_state` is client `command.client_id`'s; missing or deleted: 404."""
    return on(KIND, command.client_id, decide(client_state, command))


def change_address(
    holder: ClientState | None, target: ClientState | None, command: ChangeAddress
) -> StreamEvents:
    """`holder` is the client whose stream the `address` locator points to (None if none);
    `target` is client `command.client_id`'s when that is sent (else unused).

    Moving an address removes it from the holder and adds it, changed, to the target.
    """
    same_id(command.id_key, command.body_id_key)
    holder_state, address = require_address(holder, command.id_key)
    target_id = pick(command.client_id, holder_state.id_key)
    if target_id == holder_state.id_key:
        return on(KIND, target_id, decide(holder_state, command))
    changed = changed_address(address, command)
    add = AddAddress(address.id_key, target_id, changed.street, changed.number, changed.city)
    added = decide(target, add)
    removed = decide(holder_state, RemoveAddress(address.id_key))
    return merged(on(KIND, holder_state.id_key, removed), on(KIND, target_id, added))


def remove_address(holder: ClientState | None, command: RemoveAddress) -> StreamEvents:
    """`holder` is the client the `address` locator points to (None if none: 404)."""
    holder_state, _ = require_address(holder, command.id_key)
    return on(KIND, holder_state.id_key, decide(holder_state, command))


SPECS: tuple[Spec, ...] = (
    own(KIND, CreateClient, create_client),
    own(KIND, ChangeClient, change_client),
    own(KIND, DeleteClient, delete_client),
    own(KIND, EraseClient, erase_client),
    held(KIND, "client_id", AddAddress, create_address),
    located(ADDRESS, ChangeAddress, change_address, lambda c, _: (One(KIND, c.client_id),)),
    located(ADDRESS, RemoveAddress, remove_address),
)

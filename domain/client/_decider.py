"""The state and decider of clients: see `domain.client`."""

from dataclasses import dataclass
from typing import assert_never

from domain import validation
from domain.client._messages import (
    AddAddress,
    AddressAdded,
    AddressChanged,
    AddressRemoved,
    ChangeAddress,
    ChangeClient,
    ClientChanged,
    ClientCommand,
    ClientCreated,
    ClientDeleted,
    ClientEmailChanged,
    ClientEvent,
    CreateClient,
    DeleteClient,
    EraseClient,
    PersonalDataErased,
    RemoveAddress,
)
from domain.decider import Decider, existing
from domain.errors import ConflictError, InvalidCommandError, NotFoundError
from domain.patch import UNSET, patched
from domain.records import replace

KIND = "client"
NAME_MAX_LENGTH = 100
STREET_MAX_LENGTH = 200
NUMBER_MAX_LENGTH = 20
CITY_MAX_LENGTH = 100


# --- state --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Address:
    id_key: int
    street: str | None
    number: str | None
    city: str | None


@dataclass(frozen=True, slots=True)
class ClientState:
    id_key: int
    name: str | None
    lastname: str | None
    email: str | None
    telephone: str | None
    addresses: tuple[Address, ...] = ()
    deleted: bool = False
    erased: bool = False  # its personal data was erased once (what is there now came later)

    def address(self, id_key: int) -> Address | None:
        return next((a for a in self.addresses if a.id_key == id_key), None)


def require(state: ClientState | None, id_key: int) -> ClientState:
    if state is None or state.deleted:
        raise NotFoundError("Client", id_key)
    return state


def require_address(state: ClientState | None, id_key: int) -> tuple[ClientState, Address]:
    """The client holding address `id_key` (as located by the store) and the address."""
    address = None if state is None or state.deleted else state.address(id_key)
    if state is None or address is None:
        raise NotFoundError("Address", id_key)
    return state, address


# --- decide -------------------------------------------------------------------------------


def decide(state: ClientState | None, command: ClientCommand) -> list[ClientEvent]:
    match command:
        case CreateClient():
            return _create(state, command)
        case ChangeClient():
            return _change(require(state, command.id_key), command)
        case DeleteClient() | EraseClient():
            return _retire(state, command)
        case AddAddress():
            return _add_address(state, command)
        case ChangeAddress():
            return _change_address(state, command)
        case RemoveAddress():
            client, address = require_address(state, command.id_key)
            return [AddressRemoved(address.id_key, client.id_key)]
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(command)


def _retire(state: ClientState | None, command: DeleteClient | EraseClient) -> list[ClientEvent]:
    """A deletion tombstones the client and its addresses; an erasure blanks their personal
    data, of a deleted client too (its events still hold the data)."""
    if isinstance(command, EraseClient):
        if state is None:
            raise NotFoundError("Client", command.id_key)
        return [PersonalDataErased(state.id_key, state.email)]
    client = require(state, command.id_key)
    ids = tuple(a.id_key for a in client.addresses)
    return [ClientDeleted(client.id_key, client.email, ids)]


def _name(field: str, value: str | None) -> str | None:
    return validation.optional_text(field, value, max_length=NAME_MAX_LENGTH)


def _create(state: ClientState | None, command: CreateClient) -> list[ClientEvent]:
    name, lastname = _name("name", command.name), _name("lastname", command.lastname)
    email = validation.email("email", command.email)
    telephone = validation.telephone("telephone", command.telephone)
    if state is not None:
        raise ConflictError(f"Client with id {command.id_key} already exists", code="duplicate_id")
    return [ClientCreated(command.id_key, name, lastname, email, telephone)]


def _change(state: ClientState, command: ChangeClient) -> list[ClientEvent]:
    validation.same_id(command.id_key, command.body_id_key)
    name = patched(command.name, state.name, lambda v: _name("name", v))
    lastname = patched(command.lastname, state.lastname, lambda v: _name("lastname", v))
    telephone = patched(
        command.telephone, state.telephone, lambda v: validation.telephone("telephone", v)
    )
    email = patched(command.email, state.email, lambda v: validation.email("email", v))
    events: list[ClientEvent] = []
    if (name, lastname, telephone) != (state.name, state.lastname, state.telephone):
        events.append(ClientChanged(state.id_key, name, lastname, telephone))
    if email != state.email:
        events.append(ClientEmailChanged(state.id_key, email, state.email))
    return events


def address_fields(
    street: str | None, number: str | None, city: str | None
) -> tuple[str | None, str | None, str | None]:
    return (
        validation.optional_text("street", street, max_length=STREET_MAX_LENGTH),
        validation.optional_text("number", number, min_length=0, max_length=NUMBER_MAX_LENGTH),
        validation.optional_text("city", city, max_length=CITY_MAX_LENGTH),
    )


def _add_address(state: ClientState | None, command: AddAddress) -> list[ClientEvent]:
    street, number, city = address_fields(command.street, command.number, command.city)
    client = require(state, command.client_id)
    if client.address(command.id_key) is not None:
        raise ConflictError(f"Address with id {command.id_key} already exists", code="duplicate_id")
    return [AddressAdded(command.id_key, client.id_key, street, number, city)]


def _change_address(state: ClientState | None, command: ChangeAddress) -> list[ClientEvent]:
    validation.same_id(command.id_key, command.body_id_key)
    client, address = require_address(state, command.id_key)
    if command.client_id not in (UNSET, client.id_key):
        raise InvalidCommandError(
            "client_id", "moving an address to another client is decided on both clients"
        )
    changed = changed_address(address, command)
    if changed == address:
        return []
    fields = (changed.street, changed.number, changed.city)
    return [AddressChanged(address.id_key, client.id_key, *fields)]


def changed_address(address: Address, command: ChangeAddress) -> Address:
    """The address as the PUT would leave it, every sent field validated."""
    fields = address_fields(
        patched(command.street, address.street, lambda v: v),
        patched(command.number, address.number, lambda v: v),
        patched(command.city, address.city, lambda v: v),
    )
    return Address(address.id_key, *fields)


# --- evolve -------------------------------------------------------------------------------


def evolve(state: ClientState | None, event: ClientEvent) -> ClientState | None:
    match event:
        case ClientCreated(id_key=id_key, name=name, lastname=lastname, email=email):
            return ClientState(id_key, name, lastname, email, event.telephone)
        case ClientChanged(name=name, lastname=lastname, telephone=telephone):
            current = existing(state, event)
            return replace(current, name=name, lastname=lastname, telephone=telephone)
        case ClientEmailChanged(email=email):
            return replace(existing(state, event), email=email)
        case ClientDeleted():
            return replace(existing(state, event), addresses=(), deleted=True)
        case AddressAdded() | AddressChanged() | AddressRemoved():
            return _with_address(existing(state, event), event)
        case PersonalDataErased():
            current = existing(state, event)
            blank = tuple(Address(a.id_key, None, None, None) for a in current.addresses)
            return replace(
                current, name=None, lastname=None, email=None, telephone=None, addresses=blank,
                erased=True,
            )  # fmt: skip
        case _:  # pragma: no cover -- mypy proves the match exhaustive
            assert_never(event)


def _with_address(
    state: ClientState, event: AddressAdded | AddressChanged | AddressRemoved
) -> ClientState:
    kept = [a for a in state.addresses if a.id_key != event.id_key]
    if not isinstance(event, AddressRemoved):
        kept.append(Address(event.id_key, event.street, event.number, event.city))
    return replace(state, addresses=tuple(sorted(kept, key=lambda a: a.id_key)))


decider: Decider[ClientCommand, ClientEvent, ClientState | None] = Decider(
    initial_state=None, decide=decide, evolve=evolve
)

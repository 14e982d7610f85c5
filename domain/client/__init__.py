"""Client, with its addresses in the same stream.

Every client field is optional (as in the original). The email is unique: the store enforces
it through the `client_email` claim of `domain.claims`. Deleting a client tombstones it and
its addresses in one event; its bills and orders stay as history.

An address change here stays within its client; moving an address to another client touches
two streams and is `domain.decisions.change_address`.
"""

from domain.client._decider import (
    CITY_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NUMBER_MAX_LENGTH,
    STREET_MAX_LENGTH,
    Address,
    ClientState,
    address_fields,
    changed_address,
    decide,
    decider,
    evolve,
    require,
    require_address,
)
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
    RemoveAddress,
)

__all__ = [
    "CITY_MAX_LENGTH",
    "NAME_MAX_LENGTH",
    "NUMBER_MAX_LENGTH",
    "STREET_MAX_LENGTH",
    "AddAddress",
    "Address",
    "AddressAdded",
    "AddressChanged",
    "AddressRemoved",
    "ChangeAddress",
    "ChangeClient",
    "ClientChanged",
    "ClientCommand",
    "ClientCreated",
    "ClientDeleted",
    "ClientEmailChanged",
    "ClientEvent",
    "ClientState",
    "CreateClient",
    "DeleteClient",
    "RemoveAddress",
    "address_fields",
    "changed_address",
    "decide",
    "decider",
    "evolve",
    "require",
    "require_address",
]

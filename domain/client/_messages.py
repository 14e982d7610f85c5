"""The commands and events of clients: see `domain.client`."""

from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from domain.patch import UNSET, Unset

# --- commands -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CreateClient:
    id_key: int
    name: str | None = None
    lastname: str | None = None
    email: str | None = None
    telephone: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeClient:
    id_key: int
    name: str | Unset | None = UNSET
    lastname: str | Unset | None = UNSET
    email: str | Unset | None = UNSET
    telephone: str | Unset | None = UNSET
    body_id_key: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteClient:
    id_key: int


@dataclass(frozen=True, slots=True)
class AddAddress:
    """POST /addresses: `id_key` is the new address's, decided on client `client_id`."""

    id_key: int
    client_id: int
    street: str | None = None
    number: str | None = None
    city: str | None = None


@dataclass(frozen=True, slots=True)
class ChangeAddress:
    """PUT /addresses/{id}: decided on the client that holds the address."""

    id_key: int
    client_id: int | Unset = UNSET
    street: str | Unset | None = UNSET
    number: str | Unset | None = UNSET
    city: str | Unset | None = UNSET
    body_id_key: int | None = None


@dataclass(frozen=True, slots=True)
class RemoveAddress:
    id_key: int


@dataclass(frozen=True, slots=True)
class EraseClient:
    """An operator's: the client's personal data erased (GDPR art. 17), nothing else of it."""

    id_key: int


ClientCommand: TypeAlias = (
    CreateClient
    | ChangeClient
    | DeleteClient
    | AddAddress
    | ChangeAddress
    | RemoveAddress
    | EraseClient
)

# --- events -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientCreated:
    """Version 2 split the single "First Last" `name` of version 1 into name and lastname."""

    type_name: ClassVar[str] = "ClientCreated"
    schema_version: ClassVar[int] = 2
    id_key: int
    name: str | None
    lastname: str | None
    email: str | None
    telephone: str | None


@dataclass(frozen=True, slots=True)
class ClientChanged:
    """Name, lastname and telephone after the change; the email has its own event."""

    type_name: ClassVar[str] = "ClientChanged"
    schema_version: ClassVar[int] = 2
    id_key: int
    name: str | None
    lastname: str | None
    telephone: str | None


@dataclass(frozen=True, slots=True)
class ClientEmailChanged:
    """Carries the previous email so the claim it held can be released."""

    type_name: ClassVar[str] = "ClientEmailChanged"
    schema_version: ClassVar[int] = 1
    id_key: int
    email: str | None
    previous_email: str | None


@dataclass(frozen=True, slots=True)
class ClientDeleted:
    """Carries what the client held (email, address ids) so every claim can be released."""

    type_name: ClassVar[str] = "ClientDeleted"
    schema_version: ClassVar[int] = 1
    id_key: int
    email: str | None
    address_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class AddressAdded:
    type_name: ClassVar[str] = "AddressAdded"
    schema_version: ClassVar[int] = 1
    id_key: int
    client_id: int
    street: str | None
    number: str | None
    city: str | None


@dataclass(frozen=True, slots=True)
class AddressChanged:
    type_name: ClassVar[str] = "AddressChanged"
    schema_version: ClassVar[int] = 1
    id_key: int
    client_id: int
    street: str | None
    number: str | None
    city: str | None


@dataclass(frozen=True, slots=True)
class AddressRemoved:
    type_name: ClassVar[str] = "AddressRemoved"
    schema_version: ClassVar[int] = 1
    id_key: int
    client_id: int


@dataclass(frozen=True, slots=True)
class PersonalDataErased:
    """Every personal value of the client and its addresses is gone from here on; the events
    before hold them sealed under a key destroyed with this erasure. Carries the email it held
    (sealed too) so that the claim on it can be released."""

    type_name: ClassVar[str] = "PersonalDataErased"
    schema_version: ClassVar[int] = 1
    id_key: int
    previous_email: str | None


ClientEvent: TypeAlias = (
    ClientCreated
    | ClientChanged
    | ClientEmailChanged
    | ClientDeleted
    | AddressAdded
    | AddressChanged
    | AddressRemoved
    | PersonalDataErased
)

"""Clients and their addresses in the catalogue: documents, bodies, claims (`domain.entity`).

Every field of a client and of an address identifies a person: they are the personal data.
"""

from typing import Annotated, get_args

from pydantic import BaseModel, Field

from domain.bodies import Body, Id
from domain.claims import Claim, swap
from domain.client._decider import KIND, Address, ClientState, decider
from domain.client._decisions import ADDRESS, SPECS
from domain.client._messages import (
    AddAddress,
    AddressAdded,
    AddressChanged,
    AddressRemoved,
    ChangeAddress,
    ChangeClient,
    ClientCreated,
    ClientDeleted,
    ClientEmailChanged,
    ClientEvent,
    CreateClient,
    DeleteClient,
    PersonalDataErased,
    RemoveAddress,
)
from domain.entity import Aggregate, Claims, Document, Entity, ListFilters, Owner
from domain.events import Event

CLIENT_EMAIL = "client_email"

Name = Annotated[str, Field(min_length=1, max_length=100)]
Telephone = Annotated[str, Field(min_length=7, max_length=20, pattern=r"^\+?[1-9]\d{6,19}$")]
Email = Annotated[str, Field(min_length=3, max_length=254)]


class ClientCreate(Body):
    name: Name | None = None
    lastname: Name | None = None
    email: Email | None = None
    telephone: Telephone | None = None


class ClientChange(ClientCreate):
    pass


class AddressCreate(Body):
    street: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    number: Annotated[str, Field(max_length=20)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    client_id: Id


class AddressChange(Body):
    street: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    number: Annotated[str, Field(max_length=20)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    client_id: Id | None = None


ERASED = Field(
    default=False, description="True once the person's data was erased: its fields are null."
)


class ClientDocument(BaseModel):
    id_key: int
    name: str | None
    lastname: str | None
    email: str | None
    telephone: str | None
    erased: bool = ERASED


class AddressDocument(BaseModel):
    id_key: int
    street: str | None
    number: str | None
    city: str | None
    client_id: int
    erased: bool = ERASED


class ByClient(ListFilters):
    client_id: Id | None = Field(default=None, description="Only this client's.")


def client_documents(state: ClientState | None) -> list[Document]:
    if state is None or state.deleted:
        return []
    document = {
        "id_key": state.id_key,
        "name": state.name,
        "lastname": state.lastname,
        "email": state.email,
        "telephone": state.telephone,
    }
    return [_erased(document, state)]


def address_documents(state: ClientState | None) -> list[Document]:
    """The client's addresses, each its own document (`/addresses`)."""
    if state is None or state.deleted:
        return []
    return [_erased(address_document(state.id_key, a), state) for a in state.addresses]


def address_document(client_id: int, address: Address) -> Document:
    return {
        "id_key": address.id_key,
        "street": address.street,
        "number": address.number,
        "city": address.city,
        "client_id": client_id,
    }


def _erased(document: Document, state: ClientState) -> Document:
    """Only an erased person's documents say so: the others keep the original's shape."""
    return {**document, "erased": True} if state.erased else document


def email_claim(email: str) -> Claim:
    return Claim(CLIENT_EMAIL, email.strip().lower())


def address_locator(address_id: int) -> Claim:
    return Claim(ADDRESS, str(address_id))


def _emails(email: str | None) -> list[Claim]:
    return [] if email is None else [email_claim(email)]


def claims_of(event: Event) -> Claims:
    match event:
        case ClientCreated(email=email):
            return _emails(email), []
        case ClientEmailChanged(email=email, previous_email=previous):
            return swap(_emails(email), _emails(previous))
        case ClientDeleted(email=email, address_ids=address_ids):
            return [], _emails(email) + [address_locator(a) for a in address_ids]
        case AddressAdded(id_key=id_key) | AddressRemoved(id_key=id_key):
            held = [address_locator(id_key)]
            return (held, []) if isinstance(event, AddressAdded) else ([], held)
        case PersonalDataErased(previous_email=previous):
            return [], _emails(previous)
        case _:
            return [], []


CLIENTS = Entity(
    "clients", "Client", "Clients", KIND, "client", client_documents,
    ClientDocument, ClientCreate, ClientChange,
    CreateClient, ChangeClient, DeleteClient,
    personal=frozenset({"name", "lastname", "email", "telephone"}),
)  # fmt: skip

ADDRESSES = Entity(
    "addresses", "Address", "Addresses", KIND, "address", address_documents,
    AddressDocument, AddressCreate, AddressChange,
    AddAddress, ChangeAddress, RemoveAddress,
    filters=ByClient,
    indexed=("client_id",),
    shapes=(("client_id",),),
    owner=Owner(
        "client_id", ADDRESS, (AddressAdded, AddressChanged, AddressRemoved),
        ClientDeleted, "address_ids",
    ),
    personal=frozenset({"street", "number", "city"}),
)  # fmt: skip

AGGREGATE = Aggregate(
    KIND,
    decider,
    ClientState,
    get_args(ClientEvent),
    (CLIENTS, ADDRESSES),
    SPECS,
    claims_of,
    {
        CLIENT_EMAIL: ("Client with email {} already exists", "duplicate_email"),
        ADDRESS: ("Address with id {} already exists", "duplicate_id"),
    },
    personal_claims=frozenset({CLIENT_EMAIL}),
)

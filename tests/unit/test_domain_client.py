"""Clients and their addresses, in one stream."""

from decimal import Decimal

import pytest

from domain import client
from domain.bill import CreateBill
from domain.catalogue import BY_NAME
from domain.client import (
    AddAddress,
    AddressAdded,
    AddressChanged,
    AddressRemoved,
    ChangeAddress,
    ChangeClient,
    ClientChanged,
    ClientCreated,
    ClientDeleted,
    ClientEmailChanged,
    CreateClient,
    DeleteClient,
    EraseClient,
    PersonalDataErased,
    RemoveAddress,
    address_locator,
    email_claim,
)
from domain.enums import PaymentType
from domain.errors import InvalidCommandError, NotFoundError
from tests.strategies import T0, World, decide_all, refusal

ADA = CreateClient(1, "Ada", "Lovelace", "ada@example.com", "+441234567")


def clients() -> World:
    return World().given(ADA, CreateClient(2, "Grace"), AddAddress(10, 1, "Main St", "5", "London"))


def test_a_client_is_created_with_every_field_optional() -> None:
    assert World().handle(CreateClient(1)) == {
        "client-1": [ClientCreated(1, None, None, None, None)]
    }


def test_an_email_is_unique_whatever_its_case() -> None:
    world = clients()

    refused = refusal(world, CreateClient(3, email="ADA@Example.com"))

    assert refused.code == "duplicate_email"
    assert str(refused) == "Client with email ada@example.com already exists"


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@sub.example.org"])
def test_valid_emails_are_accepted(email: str) -> None:
    World().handle(CreateClient(1, email=email))


@pytest.mark.parametrize(
    "email", ["plain", "a@b", "a b@c.de", "@c.de", "a@@c.de", "a@" + "b" * 260 + ".c"]
)
def test_invalid_emails_are_refused(email: str) -> None:
    refused = refusal(World(), CreateClient(1, email=email))

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == "email"


@pytest.mark.parametrize(
    "telephone", ["1234567", "+1234567890123456789", "12345678901234567890", "+5491112345678"]
)
def test_valid_telephones_are_accepted(telephone: str) -> None:
    World().handle(CreateClient(1, telephone=telephone))


@pytest.mark.parametrize(
    "telephone",
    ["123456", "0123456789", "+0123456789", "123-4567", "+12345678901234567890", "١٢٣٤٥٦٧٨"],
)
def test_invalid_telephones_are_refused(telephone: str) -> None:
    refused = refusal(World(), CreateClient(1, telephone=telephone))

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == "telephone"


@pytest.mark.parametrize("field", ["name", "lastname"])
def test_names_are_at_most_a_hundred_characters(field: str) -> None:
    refused = refusal(World(), CreateClient(1, **{field: "n" * 101}))

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == field


def test_a_client_id_cannot_be_created_twice() -> None:
    assert refusal(clients(), CreateClient(1)).code == "duplicate_id"


def test_changing_fields_and_email_are_separate_events() -> None:
    world = clients()

    events = world.handle(ChangeClient(1, lastname="King", email="ada@king.org"))

    assert events == {
        "client-1": [
            ClientChanged(1, "Ada", "King", "+441234567"),
            ClientEmailChanged(1, "ada@king.org", "ada@example.com"),
        ]
    }
    assert world.claims[email_claim("ada@king.org")] == "client-1"
    assert email_claim("ada@example.com") not in world.claims


def test_an_email_can_be_cleared_with_null() -> None:
    world = clients()

    world.handle(ChangeClient(1, email=None))

    assert world.state("client-1").email is None
    world.handle(CreateClient(3, email="ada@example.com"))


def test_taking_another_clients_email_is_a_conflict() -> None:
    world = clients().given(ChangeClient(2, email="grace@example.com"))

    assert refusal(world, ChangeClient(2, email="Ada@example.com")).code == "duplicate_email"


def test_a_put_of_the_same_values_appends_nothing() -> None:
    assert clients().handle(ChangeClient(1, name="Ada", email="ada@example.com")) == {}


def test_invalid_client_changes_are_refused() -> None:
    world = clients()

    assert refusal(world, ChangeClient(1, telephone="12")).code == "invalid_field"
    assert refusal(world, ChangeClient(1, name="x", body_id_key=9)).code == "id_key_mismatch"


def test_deleting_a_client_tombstones_it_and_its_addresses() -> None:
    world = clients()

    events = world.handle(DeleteClient(1))

    assert events == {"client-1": [ClientDeleted(1, "ada@example.com", (10,))]}
    assert world.claims.keys().isdisjoint({email_claim("ada@example.com"), address_locator(10)})
    assert str(refusal(world, ChangeClient(1, name="x"))) == "Client with id 1 not found"
    assert str(refusal(world, ChangeAddress(10, city="Paris"))) == "Address with id 10 not found"
    assert isinstance(refusal(world, DeleteClient(1)), NotFoundError)


def test_a_deleted_client_gets_no_new_bill_or_address() -> None:
    world = clients().given(DeleteClient(1))
    bill = CreateBill(1, "B-1", T0.date(), Decimal(1), PaymentType.CASH, 1)

    assert str(refusal(world, bill)) == "Client with id 1 not found"
    assert str(refusal(world, AddAddress(11, 1))) == "Client with id 1 not found"


def test_an_address_is_added_to_its_clients_stream_with_a_locator() -> None:
    world = clients()

    events = world.handle(AddAddress(11, 2, "Elm St", None, "York"))

    assert events == {"client-2": [AddressAdded(11, 2, "Elm St", None, "York")]}
    assert world.claims[address_locator(11)] == "client-2"


def test_an_address_of_a_missing_client_is_not_found() -> None:
    assert str(refusal(clients(), AddAddress(11, 9))) == "Client with id 9 not found"


@pytest.mark.parametrize(
    ("address", "field"),
    [
        (AddAddress(11, 1, street=""), "street"),
        (AddAddress(11, 1, street="s" * 201), "street"),
        (AddAddress(11, 1, number="9" * 21), "number"),
        (AddAddress(11, 1, city=""), "city"),
        (AddAddress(11, 1, city="c" * 101), "city"),
    ],
)
def test_invalid_address_fields_are_refused(address: AddAddress, field: str) -> None:
    refused = refusal(clients(), address)

    assert isinstance(refused, InvalidCommandError)
    assert refused.field == field


def test_an_address_number_may_be_empty() -> None:
    clients().handle(AddAddress(11, 1, number=""))


def test_an_address_id_cannot_be_added_twice() -> None:
    world = clients()

    assert refusal(world, AddAddress(10, 1)).code == "duplicate_id"
    assert str(refusal(world, AddAddress(10, 2))) == "Address with id 10 already exists"


def test_an_address_changes_in_place() -> None:
    events = clients().handle(ChangeAddress(10, city="Paris", number=None))

    assert events == {"client-1": [AddressChanged(10, 1, "Main St", None, "Paris")]}


def test_an_address_change_that_changes_nothing_appends_nothing() -> None:
    assert clients().handle(ChangeAddress(10, client_id=1, city="London")) == {}


def test_moving_an_address_to_another_client_touches_both_streams() -> None:
    world = clients()

    events = world.handle(ChangeAddress(10, client_id=2, street="High St"))

    assert events == {
        "client-1": [AddressRemoved(10, 1)],
        "client-2": [AddressAdded(10, 2, "High St", "5", "London")],
    }
    assert world.claims[address_locator(10)] == "client-2"
    assert world.state("client-1").addresses == ()


def test_moving_an_address_to_a_missing_client_is_not_found() -> None:
    assert str(refusal(clients(), ChangeAddress(10, client_id=9))) == "Client with id 9 not found"


def test_moving_an_address_checks_its_fields_and_body_id_first() -> None:
    world = clients()

    assert refusal(world, ChangeAddress(10, client_id=9, city="")).code == "invalid_field"
    assert refusal(world, ChangeAddress(10, client_id=2, body_id_key=3)).code == "id_key_mismatch"


def test_an_address_is_removed_and_its_locator_freed() -> None:
    world = clients()

    assert world.handle(RemoveAddress(10)) == {"client-1": [AddressRemoved(10, 1)]}
    assert address_locator(10) not in world.claims
    assert str(refusal(world, RemoveAddress(10))) == "Address with id 10 not found"


def test_the_client_decider_alone_cannot_move_an_address() -> None:
    given = [ClientCreated(1, None, None, None, None), AddressAdded(10, 1, None, None, None)]

    with pytest.raises(InvalidCommandError):
        decide_all(client.decider, given, ChangeAddress(10, client_id=2))
    with pytest.raises(NotFoundError):
        decide_all(client.decider, given, RemoveAddress(11))


def test_an_erasure_blanks_the_person_and_frees_the_email_but_keeps_the_client() -> None:
    world = clients()

    events = world.handle(EraseClient(1))

    assert events == {"client-1": [PersonalDataErased(1, "ada@example.com")]}
    erased = world.state("client-1")
    assert (erased.name, erased.lastname, erased.email, erased.telephone) == (None,) * 4
    assert [(a.street, a.number, a.city) for a in erased.addresses] == [(None, None, None)]
    assert email_claim("ada@example.com") not in world.claims
    assert address_locator(10) in world.claims  # the address still exists, only blank
    world.handle(CreateClient(3, email="ada@example.com"))  # the address is free again


def test_an_erased_clients_documents_say_so_and_hold_no_personal_field() -> None:
    world = clients().given(EraseClient(1))
    state = world.state("client-1")

    (document,) = BY_NAME["clients"].documents(state)
    (address,) = BY_NAME["addresses"].documents(state)

    assert document["erased"] is True
    assert address["erased"] is True
    assert {document[f] for f in BY_NAME["clients"].personal} == {None}
    assert {address[f] for f in BY_NAME["addresses"].personal} == {None}
    untouched = World().given(CreateClient(2)).state("client-2")
    assert "erased" not in BY_NAME["clients"].documents(untouched)[0]


def test_an_erased_client_may_be_erased_again_deleted_or_given_new_data() -> None:
    world = clients().given(EraseClient(1))

    assert world.handle(EraseClient(1)) == {"client-1": [PersonalDataErased(1, None)]}
    world.handle(ChangeClient(1, name="Someone"))
    assert world.state("client-1").name == "Someone"
    assert world.state("client-1").erased  # what is there now came after the erasure
    assert world.handle(DeleteClient(1))["client-1"][0] == ClientDeleted(1, None, (10,))


def test_a_deleted_client_can_still_be_erased_but_a_missing_one_cannot() -> None:
    world = clients().given(DeleteClient(1))

    assert world.handle(EraseClient(1)) == {"client-1": [PersonalDataErased(1, "ada@example.com")]}
    assert isinstance(refusal(world, EraseClient(99)), NotFoundError)

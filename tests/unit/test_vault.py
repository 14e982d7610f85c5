"""Sealing personal values: only the catalogue's personal fields, bound to their person and
field, opened with the key of their generation, null once that key is destroyed."""

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from orders.vault import (
    PERSONAL,
    PERSONAL_CLAIMS,
    MasterKey,
    SubjectKeys,
    VaultError,
    _opened,
    _sealed,
)

KEY = os.urandom(32)
CLIENT = PERSONAL["client"]


def _seal(data: object, subject: str = "client-7", generation: int = 1) -> object:
    return _sealed(data, CLIENT, subject, generation, AESGCM(KEY))


def test_only_a_clients_personal_fields_are_personal() -> None:
    assert set(PERSONAL) == {"client"}
    assert {"name", "lastname", "email", "telephone", "street", "number", "city"} <= CLIENT
    assert "previous_email" in CLIENT
    assert "id_key" not in CLIENT
    assert {"client_email"} == PERSONAL_CLAIMS


def test_personal_values_are_sealed_in_events_and_nested_states_and_open_again() -> None:
    data = {"id_key": 7, "name": "Ada", "email": None,
            "addresses": [{"id_key": 70, "street": "Main", "city": "London"}]}  # fmt: skip

    sealed = _seal(data)

    assert isinstance(sealed, dict)
    assert sealed["id_key"] == 7
    assert sealed["email"] is None  # nothing to hide: null stays null
    assert str(sealed["name"]).startswith("enc1.1.")
    assert "Ada" not in str(sealed)
    assert "Main" not in str(sealed)
    assert _opened(sealed, CLIENT, "client-7", SubjectKeys({1: KEY}, 0.0)) == data


def test_a_destroyed_key_opens_its_values_as_null_and_a_live_one_still_opens_its_own() -> None:
    old = _seal({"name": "Ada"}, generation=1)
    new = _sealed({"name": "Ann"}, CLIENT, "client-7", 2, AESGCM(other := os.urandom(32)))
    keys = SubjectKeys({1: None, 2: other}, 0.0)

    assert _opened(old, CLIENT, "client-7", keys) == {"name": None}
    assert _opened(new, CLIENT, "client-7", keys) == {"name": "Ann"}


def test_a_sealed_value_moved_to_another_person_or_field_does_not_open() -> None:
    sealed = _seal({"name": "Ada"})
    assert isinstance(sealed, dict)

    with pytest.raises(VaultError):
        _opened(sealed, CLIENT, "client-8", SubjectKeys({1: KEY}, 0.0))
    with pytest.raises(VaultError):
        _opened({"lastname": sealed["name"]}, CLIENT, "client-7", SubjectKeys({1: KEY}, 0.0))


def test_plain_values_written_before_sealing_read_as_they_are_until_the_person_is_erased() -> None:
    plain = {"id_key": 7, "name": "Ada", "previous_email": "ada@example.org", "version": "2",
             "addresses": [{"id_key": 70, "street": "Main", "number": "7",
                            "note": "x"}]}  # fmt: skip
    never_sealed, sealed_since = SubjectKeys({}, 0.0), SubjectKeys({1: KEY}, 0.0)

    assert _opened(plain, CLIENT, "client-7", never_sealed) == plain
    assert _opened(plain, CLIENT, "client-7", sealed_since) == plain
    # erased (a destroyed generation), whether or not a key was made again since
    for erased in (SubjectKeys({1: None}, 0.0), SubjectKeys({1: None, 2: KEY}, 0.0)):
        assert _opened(plain, CLIENT, "client-7", erased) == {
            "id_key": 7, "name": None, "previous_email": None, "version": "2",
            "addresses": [{"id_key": 70, "street": None, "number": None, "note": "x"}],
        }  # fmt: skip


def test_a_master_key_wraps_a_data_key_for_one_subject_only() -> None:
    master = MasterKey.parse(MasterKey.generate())
    wrapped = master.wrap("client-7", KEY)

    assert master.unwrap("client-7", wrapped) == KEY
    with pytest.raises(VaultError):
        master.unwrap("client-8", wrapped)
    with pytest.raises(VaultError):
        MasterKey.parse(MasterKey.generate()).unwrap("client-7", wrapped)
    assert master.id != MasterKey.parse(MasterKey.generate()).id


@pytest.mark.parametrize("text", ["change-me", "", "c2hvcnQ"])
def test_a_master_key_is_32_bytes_of_base64(text: str) -> None:
    with pytest.raises(ValueError, match="ORDERS_MASTER_KEY"):
        MasterKey.parse(text)

"""The event codec and the upcaster chain."""

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import codec
from domain.catalogue import EVENT_CLASSES
from domain.client import ClientChanged, ClientCreated
from domain.codec import EVENT_TYPES, decode, encode
from domain.enums import DeliveryMethod, Status
from domain.errors import EventSchemaError
from domain.events import Event
from domain.order import OrderDeleted, OrderPlaced
from domain.product import ProductCreated
from domain.upcasters import UPCASTERS, split_full_name, upcast
from tests.strategies import WORDS, events_of, stored_v1


def test_every_event_type_is_registered_under_its_stable_name() -> None:
    assert len(EVENT_TYPES) == len(EVENT_CLASSES) == 39
    assert all(name == cls.__name__ for name, cls in EVENT_TYPES.items())
    assert all(cls.schema_version >= 1 for cls in EVENT_CLASSES)


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.type_name)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_event_survives_a_round_trip_through_json_exactly(
    cls: type[Event], data: st.DataObject
) -> None:
    event = data.draw(events_of(cls))
    type_name, version, payload = encode(event)

    stored = json.loads(json.dumps(payload))

    assert (type_name, version) == (event.type_name, event.schema_version)
    assert decode(type_name, stored) == event
    assert repr(decode(type_name, stored)) == repr(event)  # Decimal scale and tz included


def test_values_are_encoded_as_json_friendly_types() -> None:
    placed = OrderPlaced(
        7,
        dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC),
        DeliveryMethod.ON_HAND,
        Status.PENDING,
        1,
        2,
    )
    product = ProductCreated(1, "Pen", Decimal("1.50"), 3, 4)

    assert encode(placed)[2] == {
        "id_key": 7,
        "date": "2024-01-02T03:04:00+00:00",
        "delivery_method": 2,
        "status": 1,
        "client_id": 1,
        "bill_id": 2,
    }
    assert encode(product)[2]["price"] == "1.50"
    assert encode(OrderDeleted(1, (4, 5)))[2]["line_ids"] == [4, 5]


def test_a_float_written_as_an_integer_decodes_as_a_float() -> None:
    event = decode("ReviewCreated", {"id_key": 1, "product_id": 2, "rating": 5, "comment": None})

    assert isinstance(event.rating, float)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("type_name", "data"),
    [
        ("NoSuchEvent", {}),
        ("ProductDeactivated", {}),
        ("ProductDeactivated", {"id_key": 1, "extra": 2}),
        ("ProductDeactivated", {"id_key": "1"}),
        ("ProductDeactivated", {"id_key": True}),
        ("ProductChanged", {"id_key": 1, "name": "x", "price": "not money"}),
        ("ProductChanged", {"id_key": 1, "name": "x", "price": 1.5}),
        ("OrderStatusChanged", {"id_key": 1, "status": 9, "previous_status": 1}),
        ("BillDeleted", {"id_key": 1, "bill_number": None}),
    ],
)
def test_malformed_stored_data_is_a_schema_error(type_name: str, data: dict[str, Any]) -> None:
    with pytest.raises(EventSchemaError):
        decode(type_name, data)


@pytest.mark.parametrize(
    ("type_name", "data", "message"),
    [
        ("ProductDeactivated", {"id_key": 1, "extra": 2},
         "ProductDeactivated expects fields ['id_key'], got ['extra', 'id_key']"),
        ("ProductDeactivated", {"id_key": True}, "ProductDeactivated: expected int, got True"),
        ("ProductChanged", {"id_key": "1", "name": 2, "price": 1.5},
         "ProductChanged: expected int, got '1'"),  # the first wrong field, in field order
        ("ProductChanged", {"id_key": 1, "name": "x", "price": 1.5},
         "ProductChanged: expected str, got 1.5"),
        ("ReviewCreated", {"id_key": 1, "product_id": 2, "rating": "5", "comment": None},
         "ReviewCreated: expected float, got '5'"),
        ("OrderStatusChanged", {"id_key": 1, "status": 9, "previous_status": 1},
         "OrderStatusChanged: 9 is not a valid Status"),
        ("BillDeleted", {"id_key": 1, "bill_number": None}, "BillDeleted: expected str, got None"),
        ("OrderDeleted", {"id_key": 1, "line_ids": [1, True]},
         "OrderDeleted: expected int, got True"),
    ],
)  # fmt: skip
def test_a_schema_error_names_what_was_expected_and_what_was_stored(
    type_name: str, data: dict[str, Any], message: str
) -> None:
    with pytest.raises(EventSchemaError) as refused:
        decode(type_name, data)

    assert str(refused.value) == message


def decode_stored(type_name: str, schema_version: int, data: dict[str, Any]) -> Event:
    """What every read path does with a stored event: upcast, then decode."""
    return decode(type_name, upcast(type_name, schema_version, dict(data)))


V1_CLIENT: dict[str, Any] = {
    "id_key": 1,
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "telephone": None,
}


def test_client_created_v1_is_upcast_to_name_and_lastname() -> None:
    assert ClientCreated.schema_version == 2

    event = decode_stored("ClientCreated", 1, V1_CLIENT)

    assert event == ClientCreated(1, "Ada", "Lovelace", "ada@example.com", None)


def test_client_changed_v1_is_upcast_the_same_way() -> None:
    data = {"id_key": 1, "name": "Grace Brewster Hopper", "telephone": None}

    assert decode_stored("ClientChanged", 1, data) == ClientChanged(
        1, "Grace Brewster", "Hopper", None
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Ada", ("Ada", None)), (None, (None, None)), ("  ", ("  ", None)), ("A  B ", ("A", "B"))],
)
def test_a_full_name_splits_on_its_last_word(
    name: str | None, expected: tuple[str | None, str | None]
) -> None:
    result = split_full_name({"name": name})

    assert (result["name"], result["lastname"]) == expected


def test_current_data_passes_through_the_chain_untouched() -> None:
    data = codec.encode(ClientCreated(1, "Ada", "L", None, None))[2]

    assert upcast("ClientCreated", 2, data) is data
    assert decode_stored("ClientCreated", 2, data) == ClientCreated(1, "Ada", "L", None, None)


def test_every_upcaster_starts_below_its_events_current_version() -> None:
    for type_name, version in UPCASTERS:
        assert version < EVENT_TYPES[type_name].schema_version


@pytest.mark.parametrize(
    ("type_name", "version"),
    [("NoSuchEvent", 1), ("ClientCreated", 3), ("ProductCreated", 0)],
)
def test_unknown_types_and_versions_cannot_be_upcast(type_name: str, version: int) -> None:
    with pytest.raises(EventSchemaError):
        upcast(type_name, version, {})


# --- the upcaster chain, as properties ----------------------------------------------------

UPCAST_TYPES = sorted({type_name for type_name, _ in UPCASTERS})


def test_the_chain_is_total_every_older_version_has_its_step() -> None:
    for cls in EVENT_CLASSES:
        for version in range(1, cls.schema_version):
            assert (cls.type_name, version) in UPCASTERS, (cls.type_name, version)


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.type_name)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_current_data_is_a_fixed_point_of_the_chain(cls: type[Event], data: st.DataObject) -> None:
    stored = json.loads(json.dumps(encode(data.draw(events_of(cls)))[2]))

    assert upcast(cls.type_name, cls.schema_version, stored) == stored


@pytest.mark.parametrize("type_name", UPCAST_TYPES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_v1_record_upcasts_to_an_event_and_only_once(
    type_name: str, data: st.DataObject
) -> None:
    cls = EVENT_TYPES[type_name]
    stored = json.loads(json.dumps(data.draw(stored_v1(cls))))

    current = upcast(type_name, 1, stored)

    assert isinstance(decode(type_name, current), cls)  # total: every v1 record decodes
    assert upcast(type_name, cls.schema_version, current) == current  # idempotent
    assert upcast(type_name, 1, stored) == current  # deterministic, and `stored` untouched
    assert {k: v for k, v in current.items() if k not in {"name", "lastname"}} == {
        k: v for k, v in stored.items() if k != "name"
    }


@pytest.mark.parametrize("type_name", UPCAST_TYPES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_upcasting_keeps_every_word_of_the_full_name_in_order(
    type_name: str, data: st.DataObject
) -> None:
    stored = data.draw(stored_v1(EVENT_TYPES[type_name]))

    current = upcast(type_name, 1, stored)

    full, name, lastname = stored["name"], current["name"], current["lastname"]
    if lastname is None:
        assert name == full
        assert full is None or len(full.split()) < 2
    else:
        assert (full or "").split() == [*(name or "").split(), lastname]


@pytest.mark.parametrize("type_name", UPCAST_TYPES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_v1_writer_s_record_of_an_event_reads_back_as_that_event(
    type_name: str, data: st.DataObject
) -> None:
    first = data.draw(st.lists(WORDS, min_size=1, max_size=3).map(" ".join))
    event = data.draw(events_of(EVENT_TYPES[type_name]))
    event = dataclasses.replace(event, name=first, lastname=data.draw(WORDS))  # type: ignore[type-var]
    v1 = encode(event)[2]
    v1["name"] = f"{v1['name']} {v1.pop('lastname')}"

    assert decode_stored(type_name, 1, json.loads(json.dumps(v1))) == event

"""The projector's fast decoding agrees with the domain's codec on every event type, and hands
anything it does not recognise to the codec, errors included."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import codec
from domain.errors import EventSchemaError
from domain.events import EVENT_CLASSES, Event
from projector.decoding import decode
from tests.strategies import events_of


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda cls: cls.type_name)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_fast_decoding_agrees_with_the_codec(cls: type[Event], data: st.DataObject) -> None:
    event = data.draw(events_of(cls))
    type_name, _, payload = codec.encode(event)
    stored = json.loads(json.dumps(payload))

    decoded = decode(type_name, stored)

    assert decoded == codec.decode(type_name, stored) == event
    assert repr(decoded) == repr(event)  # Decimal scale and time zone included


def test_data_that_does_not_fit_gets_the_codecs_error() -> None:
    with pytest.raises(EventSchemaError):
        decode("ProductCreated", {"id_key": 1})
    with pytest.raises(EventSchemaError):
        decode("ProductCreated", {"id_key": 1, "name": "x", "price": "a lot", "stock": 1,
                                  "category_id": 2})  # fmt: skip
    with pytest.raises(EventSchemaError):
        decode("NoSuchEvent", {})

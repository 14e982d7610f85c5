"""The catalogue: every entity declared once, and what the services derive from it."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from domain import catalogue
from domain.catalogue import AGGREGATES, BY_NAME, ENTITIES, SPECS
from domain.client import Address, ClientState, EraseClient
from domain.entity import Entity
from domain.enums import Status
from domain.order import OrderFilters, OrderLine, OrderState
from domain.product import ProductFilters


def test_every_command_has_exactly_one_spec_and_only_erasure_is_no_entitys() -> None:
    sent = {cmd for e in ENTITIES for cmd in (e.create, e.change, e.delete)}
    assert len(sent) == 3 * len(ENTITIES)
    assert set(SPECS) - sent == {EraseClient}  # an operator's command, not a REST write


def test_each_aggregate_owns_its_stream_kind_and_its_own_entity_comes_first() -> None:
    for aggregate in AGGREGATES:
        assert aggregate.entity.owner is None
        assert all(e.kind == aggregate.kind for e in aggregate.entities)
        assert all(e.owner is not None for e in aggregate.entities[1:])


def test_read_model_columns_take_their_types_from_the_document_model() -> None:
    assert BY_NAME["products"].columns() == (("category_id", "bigint"), ("active", "boolean"))
    assert BY_NAME["orders"].columns() == (("client_id", "bigint"), ("status", "integer"))
    assert BY_NAME["categories"].columns() == ()


def test_a_document_field_of_no_column_type_is_refused() -> None:
    class Odd(BaseModel):
        id_key: int
        weight: float

    odd = Entity(
        "odd", "Odd", "Odd", "odd", "odd", lambda _: [], Odd, Odd, Odd, object, object, object,
        indexed=("weight",),
    )  # fmt: skip
    with pytest.raises(TypeError, match="no read-model column type"):
        odd.columns()


def test_an_entity_is_found_in_whichever_stream_of_its_kind_holds_it() -> None:
    address = Address(70, "Main", None, "London")
    states: dict[str, Any] = {
        "client-7": ClientState(7, "Ada", None, None, None),
        "client-8": ClientState(8, "Bob", None, None, None, (address,)),
        "order-8": None,
    }

    assert BY_NAME["addresses"].find(states, 70) == (
        {"id_key": 70, "street": "Main", "number": None, "city": "London", "client_id": 8},
        "client-8",
    )
    assert BY_NAME["clients"].find(states, 7) is not None
    assert BY_NAME["clients"].find(states, 9) is None
    assert BY_NAME["order_details"].find(states, 70) is None


def test_list_filters_become_the_read_model_fields_they_ask_for() -> None:
    assert ProductFilters().fields() == {"active": True}
    assert ProductFilters(category_id=3, include_inactive=True).fields() == {"category_id": 3}
    assert OrderFilters(status=Status.DELIVERED).fields() == {"status": 3}


def test_an_order_is_placed_now_when_no_date_is_sent() -> None:
    now = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    orders = BY_NAME["orders"]

    assert orders.fill({"date": None}, now) == {"date": now}
    assert orders.fill({"date": now - dt.timedelta(days=1)}, now)["date"] < now
    assert BY_NAME["bills"].fill({"date": None}, now) == {"date": None}


def test_unknown_stream_kinds_and_events_are_not_the_catalogues() -> None:
    with pytest.raises(ValueError, match="unknown stream kind"):
        catalogue.aggregate_of("widget-1")
    line = OrderLine(1, 2, 3, Decimal("1.00"))
    order = OrderState(1, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 1, Status.PENDING, 1, 1, (line,))  # type: ignore[arg-type]
    assert BY_NAME["order_details"].documents(order)[0]["order_id"] == 1


def test_personal_fields_are_fields_of_the_entitys_document() -> None:
    for entity in ENTITIES:
        assert entity.personal <= set(entity.document.model_fields)
    assert BY_NAME["clients"].personal == {"name", "lastname", "email", "telephone"}
    assert BY_NAME["addresses"].personal == {"street", "number", "city"}

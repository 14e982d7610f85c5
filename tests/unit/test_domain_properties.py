"""Properties of the deciders over random sequences of commands."""

import contextlib
from collections import Counter
from decimal import Decimal
from typing import Any

from hypothesis import given

from domain import order as order_module
from domain.bill import BillState, bill_number_claim
from domain.catalogue import DECIDERS
from domain.category import CategoryState, category_name_claim
from domain.claims import Claim
from domain.client import ClientState, address_locator, email_claim
from domain.decider import fold
from domain.enums import Status
from domain.errors import DomainError, InvalidCommandError
from domain.order import OrderState, order_detail_locator
from domain.product import ProductCreated, ProductState, StockAdjusted
from domain.streams import parse_stream_id
from tests.strategies import (
    PROPERTIES,
    QUICK,
    World,
    invalid_commands,
    market,
    registry,
    registry_commands,
    shop,
    trading_commands,
)


def trade(commands: list[Any]) -> World:
    """Run every command on a fresh market; refusals are fine, anything else is a bug."""
    world = market()
    for command in commands:
        with contextlib.suppress(DomainError):
            world.handle(command)
        assert_stock_is_conserved(world)
    return world


def units_held(orders: dict[int, OrderState | None]) -> tuple[Counter[int], Counter[int]]:
    """Units per product held by lines of open orders, and sold by delivered ones."""
    reserved: Counter[int] = Counter()
    sold: Counter[int] = Counter()
    for state in orders.values():
        if state is None or not (state.is_open or state.status is Status.DELIVERED):
            continue
        held = reserved if state.is_open else sold
        for line in state.lines:
            held[line.product_id] += line.quantity
    return reserved, sold


def units_created(world: World, product_id: int) -> int:
    """Initial stock plus every adjustment: the only events that make or destroy units."""
    total = 0
    for event in world.streams[f"product-{product_id}"]:
        if isinstance(event, ProductCreated):
            total += event.stock
        elif isinstance(event, StockAdjusted):
            total += event.delta
    return total


def assert_stock_is_conserved(world: World) -> None:
    reserved, sold = units_held(world.states("order"))
    for product_id, state in world.states("product").items():
        assert isinstance(state, ProductState)
        assert state.stock >= 0
        assert state.reserved == reserved[product_id]
        assert state.sold == sold[product_id]
        assert units_created(world, product_id) == state.stock + state.reserved + state.sold


@PROPERTIES
@given(trading_commands)
def test_stock_is_never_negative_and_every_unit_is_accounted_for(commands: list[Any]) -> None:
    trade(commands)


@PROPERTIES
@given(trading_commands)
def test_replaying_a_stream_gives_the_state_evolved_event_by_event(commands: list[Any]) -> None:
    world = trade(commands)

    for stream, events in world.streams.items():
        decider = DECIDERS[parse_stream_id(stream)[0]]
        assert fold(decider, events) == world.evolved[stream]


@PROPERTIES
@given(trading_commands)
def test_an_order_total_is_always_the_sum_of_its_lines(commands: list[Any]) -> None:
    world = trade(commands)

    for state in world.states("order").values():
        assert isinstance(state, OrderState)
        assert state.total == sum(
            (line.quantity * line.price for line in state.lines), Decimal("0.00")
        )
        assert state.total.as_tuple().exponent == -2


@PROPERTIES
@given(trading_commands)
def test_every_line_and_only_those_hold_a_locator_to_their_order(commands: list[Any]) -> None:
    world = trade(commands)

    expected = {
        order_detail_locator(line.id_key): f"order-{order_id}"
        for order_id, state in world.states("order").items()
        if state is not None and not state.deleted
        for line in state.lines
    }
    actual = {
        claim: owner for claim, owner in world.claims.items() if claim.scope == "order_detail"
    }
    assert actual == expected


def claims_held_by(world: World) -> dict[Claim, str]:
    """The claims the current states imply, each owned by the stream holding the value."""
    held: dict[Claim, str] = {}
    for kind in ("category", "client", "bill"):
        for id_key, state in world.states(kind).items():
            if state is None or state.deleted:
                continue
            stream = f"{kind}-{id_key}"
            match state:
                case CategoryState(name=name):
                    held[category_name_claim(name)] = stream
                case BillState(bill_number=number):
                    held[bill_number_claim(number)] = stream
                case ClientState(email=email, addresses=addresses):
                    held |= {address_locator(a.id_key): stream for a in addresses}
                    if email is not None:
                        held[email_claim(email)] = stream
    return held


@PROPERTIES
@given(registry_commands)
def test_unique_values_and_locators_are_claimed_exactly_while_held(commands: list[Any]) -> None:
    world = registry()
    for command in commands:
        with contextlib.suppress(DomainError):
            world.handle(command)
        assert world.claims == claims_held_by(world)
    for stream, events in world.streams.items():
        assert fold(DECIDERS[parse_stream_id(stream)[0]], events) == world.evolved[stream]


@QUICK
@given(invalid_commands)
def test_a_command_breaking_a_field_rule_is_refused_and_appends_nothing(command: Any) -> None:
    world = shop()
    world.handle(order_module.PlaceOrder(1, world.state("bill-1").date, 1, 1, 1))  # type: ignore[arg-type]
    before = {stream: list(events) for stream, events in world.streams.items()}

    try:
        world.handle(command)
    except InvalidCommandError:
        pass
    else:
        raise AssertionError(f"{command} was not refused")
    assert world.streams == before

"""A state read back from a snapshot, with the events after it, is the state every event
gives: whatever the commands, wherever the cut."""

import contextlib
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain import codec
from domain.catalogue import aggregate_of
from domain.decider import fold
from domain.errors import DomainError
from tests.strategies import PROPERTIES, registry, registry_commands, trading_commands
from tests.unit.test_domain_properties import trade


def _through_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _assert_snapshots_agree(world: Any, data: st.DataObject) -> None:
    for stream, events in world.streams.items():
        aggregate = aggregate_of(stream)
        cut = data.draw(st.integers(0, len(events)), label=stream)
        stored = _through_json(codec.encode_state(fold(aggregate.decider, events[:cut])))
        from_snapshot = fold(
            aggregate.decider, events[cut:], codec.decode_state(aggregate.state, stored)
        )
        assert from_snapshot == fold(aggregate.decider, events)
        assert repr(from_snapshot) == repr(world.evolved[stream])  # Decimal scale, tz, order


@PROPERTIES
@given(trading_commands, st.data())
def test_orders_products_and_bills_from_a_snapshot_and_their_tail(
    commands: list[Any], data: st.DataObject
) -> None:
    _assert_snapshots_agree(trade(commands), data)


@PROPERTIES
@given(registry_commands, st.data())
def test_categories_clients_and_reviews_from_a_snapshot_and_their_tail(
    commands: list[Any], data: st.DataObject
) -> None:
    world = registry()
    for command in commands:
        with contextlib.suppress(DomainError):  # refusals are part of the sequence
            world.handle(command)
    _assert_snapshots_agree(world, data)

"""Building a multi-stream decision out of the single-stream deciders."""

from collections.abc import Iterable, Mapping, Sequence
from typing import TypeVar

from domain.decider import Decider, fold
from domain.events import Event, StreamEvents
from domain.streams import stream_id

C = TypeVar("C")
E = TypeVar("E", bound=Event)
S = TypeVar("S")


def on(kind: str, id_key: int, events: Sequence[Event]) -> StreamEvents:
    return {stream_id(kind, id_key): list(events)} if events else {}


def merged(*parts: StreamEvents) -> StreamEvents:
    """One append's events, per stream in the order the parts list them."""
    result: StreamEvents = {}
    for part in parts:
        for stream, events in part.items():
            result.setdefault(stream, []).extend(events)
    return {stream: events for stream, events in result.items() if events}


def lookup(states: Mapping[int, S | None], kind: str, id_key: int) -> S | None:
    """The state a caller loaded for `kind` `id_key`; None means its stream is empty.

    A missing key is the caller's bug (it did not load what `reads` asked for), so it fails
    loudly instead of passing for "does not exist".
    """
    if id_key not in states:
        raise LookupError(f"this decision reads {stream_id(kind, id_key)}: load it first")
    return states[id_key]


def decide_each(
    decider: Decider[C, E, S | None],
    kind: str,
    states: Mapping[int, S | None],
    commands: Iterable[tuple[int, C]],
) -> StreamEvents:
    """Decide several commands on streams of one kind, each seeing the previous ones' events.

    Two lines of one order may reserve from the same product: the second must see the first's
    reservation, exactly as if they had been appended one after the other.
    """
    current = dict(states)
    result: StreamEvents = {}
    for id_key, command in commands:
        events = decider.decide(lookup(current, kind, id_key), command)
        current[id_key] = fold(decider, events, current[id_key])
        result.setdefault(stream_id(kind, id_key), []).extend(events)
    return merged(result)

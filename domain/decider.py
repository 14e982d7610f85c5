"""The one shape every aggregate takes: a decider (Jérémie Chassaing's pattern).

Running a command is: load the stream, `fold` it into a state, `decide`, append the events
with the version that was read.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from domain.errors import StreamCorruptedError

C = TypeVar("C")
E = TypeVar("E")
S = TypeVar("S")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Decider(Generic[C, E, S]):
    initial_state: S
    decide: Callable[[S, C], list[E]]
    evolve: Callable[[S, E], S]


def fold(decider: Decider[C, E, S], events: Iterable[E], state: S | None = None) -> S:
    """Evolve `state` (the decider's initial state when omitted) through `events`."""
    current = decider.initial_state if state is None else state
    for event in events:
        current = decider.evolve(current, event)
    return current


def existing(state: T | None, event: object) -> T:
    """The state an event applies to; an event before its entity's creation is corrupt data."""
    if state is None:
        raise StreamCorruptedError(f"{type(event).__name__} applied to an entity never created")
    return state

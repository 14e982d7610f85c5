"""The one shape every aggregate takes: a decider (Jérémie Chassaing's pattern).

Running a command is: load the stream, `fold` it into a state, `decide`, append the events
with the version that was read.
"""

import dataclasses
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from domain.errors import StreamCorruptedError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["Decider", "existing", "fold", "replace"]

C = TypeVar("C")
E = TypeVar("E")
S = TypeVar("S")
T = TypeVar("T")
D = TypeVar("D", bound="DataclassInstance")


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


def _replace(state: D, /, **changes: Any) -> D:
    """`dataclasses.replace`, in half its time for a state whose `__init__` only stores its
    fields (what `evolve` copies once per event, a rebuild millions of times): the copy is
    made by storing them, not through `__init__` with every field passed by keyword."""
    cls: type[DataclassInstance] = type(state)
    names = _stored_fields(cls)
    if names is None or not changes.keys() <= names:
        return dataclasses.replace(state, **changes)  # with its own checks and errors
    copy: D = object.__new__(type(state))
    for name in names:
        object.__setattr__(copy, name, changes[name] if name in changes else getattr(state, name))
    return copy


@functools.cache
def _stored_fields(cls: "type[DataclassInstance]") -> frozenset[str] | None:
    """The fields of a dataclass whose `__init__` only stores them (None for the others, whose
    `__post_init__`, init-only or derived fields `replace` handles)."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return None
    fields = dataclasses.fields(cls)
    return frozenset(f.name for f in fields) if all(f.init for f in fields) else None


if TYPE_CHECKING:
    # mypy checks the names and types of the changes to a `dataclasses.replace` (its
    # dataclasses plugin), which `_replace` is the equivalent of.
    from dataclasses import replace
else:
    replace = _replace

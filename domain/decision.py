"""The shape of a decision that spans streams, and the spec that runs one.

A decision takes the state of the stream it is decided on, the states of the streams it reads,
and the command, and returns the events for every stream it touches (`StreamEvents`), to be
appended atomically, each stream at the version its state was read at.

Each command has one `Spec`, declared beside its decision function:

    on       the stream the command is decided on, or the locator claim that finds it
    reads    what else it reads, as a function of the command and that stream's state
    decide   the decision, called as decide(state, *what reads named, command)

What `reads` names becomes the decision's arguments, in order: a decision cannot read a stream
its spec does not name, and a spec cannot name a stream its decision does not take. `One` is a
single stream (its state, None when empty or not sent); `Each` is several streams of one kind
(a mapping of id to state, which `lookup` refuses to answer for an id it does not hold).
"""

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeAlias, TypeVar

from domain import validation
from domain.claims import Claim
from domain.decider import Decider, fold
from domain.events import Event, StreamEvents
from domain.patch import Unset
from domain.streams import stream_id

C = TypeVar("C")
E = TypeVar("E", bound=Event)
S = TypeVar("S")


class Command(Protocol):
    """What every command the edge sends has: the id of the entity it is about."""

    @property
    def id_key(self) -> int: ...


@dataclass(frozen=True, slots=True)
class One:
    """One stream of `kind`; none when `id_key` was not sent (or sent null: refused later)."""

    kind: str
    id_key: int | Unset | None

    def streams(self) -> frozenset[str]:
        return frozenset(stream_id(self.kind, id_key) for id_key in sent(self.id_key))

    def resolve(self, loaded: Mapping[str, Any]) -> Any:
        (stream,) = self.streams() or (None,)
        return None if stream is None else _loaded(loaded, stream)


@dataclass(frozen=True, slots=True)
class Each:
    """Several streams of `kind`, resolved to a mapping of id to state."""

    kind: str
    ids: frozenset[int] = field(default_factory=frozenset)

    def streams(self) -> frozenset[str]:
        return frozenset(stream_id(self.kind, id_key) for id_key in self.ids)

    def resolve(self, loaded: Mapping[str, Any]) -> dict[int, Any]:
        return {id_key: _loaded(loaded, stream_id(self.kind, id_key)) for id_key in self.ids}


Read: TypeAlias = One | Each


def sent(*references: int | Unset | None) -> frozenset[int]:
    """The ids among references a command sent (not sent, or sent null: none)."""
    return frozenset(r for r in references if r is not None and not isinstance(r, Unset))


Reads: TypeAlias = Callable[[Any, Any], tuple[Read, ...]]


def _loaded(loaded: Mapping[str, Any], stream: str) -> Any:
    if stream not in loaded:
        raise LookupError(f"this decision reads {stream}: load it first")
    return loaded[stream]


def _nothing(_command: Any, _state: Any) -> tuple[Read, ...]:
    return ()


@dataclass(frozen=True, slots=True)
class Spec:
    """How one command type is run: see the module docstring."""

    command: type[Any]
    on: Callable[[Any], str | Claim]
    decide: Callable[..., StreamEvents]
    reads: Reads = _nothing
    own: bool = False  # decided on the stream its own `id_key` names

    def streams(self, command: Any, state: Any) -> frozenset[str]:
        """Every stream `reads` names for the command, given its own stream's state."""
        return frozenset().union(*(read.streams() for read in self.reads(command, state)))

    def run(
        self, command: Any, state: Any, loaded: Mapping[str, Any], stream: str | None = None
    ) -> StreamEvents:
        """The decision, with `state` for its own `stream` and `loaded` holding (at least) the
        states of the other streams `streams(command, state)` names."""
        if stream is not None:
            loaded = {**loaded, stream: state}
        resolved = [read.resolve(loaded) for read in self.reads(command, state)]
        return self.decide(state, *resolved, command)


def own(
    kind: str, command: type[Any], decide: Callable[..., StreamEvents], reads: Reads = _nothing
) -> Spec:
    """A command decided on the stream of the entity its `id_key` names."""
    return Spec(command, lambda c: stream_id(kind, c.id_key), decide, reads, own=True)


def held(
    kind: str,
    reference: str,
    command: type[Any],
    decide: Callable[..., StreamEvents],
    reads: Reads = _nothing,
) -> Spec:
    """A command decided on its holder's stream, named by the command's `reference` field
    (a new address on its client's stream, a new line on its order's)."""

    def on(c: Any) -> str:
        return stream_id(kind, validation.required(reference, getattr(c, reference)))

    return Spec(command, on, decide, reads)


def located(
    scope: str, command: type[Any], decide: Callable[..., StreamEvents], reads: Reads = _nothing
) -> Spec:
    """A command decided on whichever stream holds the entity, found by its locator claim."""
    return Spec(command, lambda c: Claim(scope, str(c.id_key)), decide, reads)


# --- building a decision's events out of the single-stream deciders ------------------------


def on(kind: str, id_key: int, events: Sequence[Event]) -> StreamEvents:
    return {stream_id(kind, id_key): list(events)} if events else {}


def merged(*parts: StreamEvents) -> StreamEvents:
    """One append's events, per stream in the order the parts list them."""
    result: StreamEvents = {}
    for part in parts:
        for stream, events in part.items():
            result.setdefault(stream, []).extend(events)
    return {stream: events for stream, events in result.items() if events}


def require_moved(
    sent: int | Unset,
    current: int,
    state: S | None,
    require: Callable[[S | None, int], object],
) -> None:
    """A PUT that moves an entity to another holder (a bill to another client, a review to
    another product) checks that holder, and only when it changes: the entity may stay with one
    that was deleted since."""
    if not isinstance(sent, Unset) and sent != current:
        require(state, sent)


def lookup(states: Mapping[int, S | None], kind: str, id_key: int) -> S | None:
    """The state a caller loaded for `kind` `id_key`; None means its stream is empty.

    A missing key is the caller's bug (its spec did not name the stream), so it fails loudly
    instead of passing for "does not exist".
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

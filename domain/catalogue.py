"""The catalogue: every aggregate of the domain, one line each, and what the services look up
in it. Each aggregate is declared beside its decider (`<package>/_entity.py`); adding one to the
platform is adding its line here (see docs/adding-an-entity.md).

    AGGREGATES   in the order the API lists its resources
    ENTITIES     every REST resource, each stream's own entity before those it holds
    EVENT_CLASSES, DECIDERS, spec_of(command), aggregate_of(stream)

and the generic steps of running a command that need to know every aggregate: the claims of
an append and the conflict a taken claim means.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from domain import bill, category, client, order, product, review
from domain.claims import Claim, ClaimChanges
from domain.decider import Decider
from domain.decision import Spec
from domain.entity import Aggregate, Claims, Entity
from domain.errors import ConflictError
from domain.events import Event, StreamEvents
from domain.streams import parse_stream_id

AGGREGATES: tuple[Aggregate, ...] = (
    category.AGGREGATE,
    product.AGGREGATE,
    client.AGGREGATE,
    bill.AGGREGATE,
    order.AGGREGATE,
    review.AGGREGATE,
)

BY_KIND: Mapping[str, Aggregate] = {a.kind: a for a in AGGREGATES}
ENTITIES: tuple[Entity, ...] = tuple(e for a in AGGREGATES for e in a.entities)
BY_NAME: Mapping[str, Entity] = {e.name: e for e in ENTITIES}
DECIDERS: Mapping[str, Decider[Any, Any, Any]] = {a.kind: a.decider for a in AGGREGATES}
EVENT_CLASSES: tuple[type[Event], ...] = tuple(e for a in AGGREGATES for e in a.events)
SPECS: Mapping[type[Any], Spec] = {s.command: s for a in AGGREGATES for s in a.commands}
_OF_EVENT = {cls: a for a in AGGREGATES for cls in a.events}
_UNIQUES = {scope: rule for a in AGGREGATES for scope, rule in a.uniques.items()}

if len(BY_KIND) != len(AGGREGATES) or len(BY_NAME) != len(ENTITIES):  # pragma: no cover
    raise RuntimeError("two aggregates share a kind, or two entities a name")
if len({cls.type_name for cls in EVENT_CLASSES}) != len(EVENT_CLASSES):  # pragma: no cover
    raise RuntimeError("two event classes share a type_name")


def aggregate_of(stream: str) -> Aggregate:
    """The aggregate whose stream this is; an unknown kind is a ValueError."""
    kind, _ = parse_stream_id(stream)
    if kind not in BY_KIND:
        raise ValueError(f"unknown stream kind {kind!r}")
    return BY_KIND[kind]


def spec_of(command: Any) -> Spec:
    """The spec of an edge command (a KeyError for a command no entity sends)."""
    return SPECS[type(command)]


def claims_of(event: Event) -> Claims:
    """The claims an event takes and releases for the stream it is appended to."""
    return _OF_EVENT[type(event)].claims(event)


def claim_changes(events_by_stream: Mapping[str, Sequence[Event]]) -> ClaimChanges:
    changes = ClaimChanges()
    for stream, events in events_by_stream.items():
        for event in events:
            claimed, released = claims_of(event)
            changes.released.extend((claim, stream) for claim in released)
            changes.claimed.extend((claim, stream) for claim in claimed)
    return changes


def conflict_for(claim: Claim) -> ConflictError:
    """The 409 to raise when `claim` is already owned by another stream."""
    message, code = _UNIQUES.get(claim.scope, ("{} is already taken", "duplicate"))
    return ConflictError(message.format(claim.value), code=code)


# --- the generic command path, for callers that run a command in one go ---------------------


def primary(command: Any) -> str | Claim:
    """The stream a command is decided on, or the locator claim whose owner stream it is."""
    return spec_of(command).on(command)


def reads(command: Any, state: Any, stream: str | None = None) -> frozenset[str]:
    """The streams, besides the primary one (`stream`, whose folded `state` is given), to load.
    `stream` may be left out for a command whose primary stream is not found by a locator."""
    return spec_of(command).streams(command, state) - {stream or _named(command)}


def decide(
    command: Any, state: Any, others: Mapping[str, Any], stream: str | None = None
) -> StreamEvents:
    """Decide a command with its primary stream's state and the others' states by stream
    (`stream` as for `reads`)."""
    return spec_of(command).run(command, state, others, stream or _named(command))


def _named(command: Any) -> str | None:
    target = primary(command)
    return None if isinstance(target, Claim) else target

"""The one command path every write takes: load → decide → append, retried on version conflicts.

    spec    = the command's spec (`domain.catalogue.spec_of`)
    target  = spec.on(command)              the stream it is decided on (or a locator to resolve)
    (wait for this process's turn on every stream it touches: `queues`)
    state   = that stream, as held + its tail  checked against If-Match (`states`)
    others  = each stream spec.reads names, as held + its tail
    events  = spec.run(command, state, others)  {stream: [events]}
    append(events, each stream at the version it was read, claims, idempotency key)

A version conflict means another process wrote in between: the tails are read and the command
decided again, a bounded number of times with jittered backoff. Nothing here knows HTTP;
`render` turns the outcome into the stored response so that an idempotent retry gets the first
response back byte for byte.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from command_api.queues import StreamQueues
from command_api.states import EMPTY, Loaded, StreamStates
from domain import codec
from domain.catalogue import aggregate_of, claim_changes, conflict_for, spec_of
from domain.claims import Claim
from domain.decider import fold
from domain.decision import Command, Spec
from domain.errors import DomainError
from domain.events import StreamEvents
from eventstore import Claim as StoreClaim
from eventstore import (
    EventStore,
    Expect,
    Idempotency,
    NewEvent,
    StreamAppend,
    UniqueClaimTakenError,
    WrongExpectedVersionError,
)
from orders.metrics import APPENDS, COMMAND_RETRIES, IDEMPOTENT_REPLAYS

# A hot stream (one product bought by a hundred clients at once) is a queue within a process;
# between processes it sees conflicts: retried at once a few times while holding the process's
# turn, then with a jittered backoff, capped so that a request gives up within about a second.
IN_TURN_RETRIES = 3
MAX_ATTEMPTS = 12
BACKOFF_CAP_SECONDS = 0.1


class PreconditionFailedError(Exception):
    """If-Match named a version the entity is no longer at."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"If-Match expected version {expected}, the entity is at {actual}")
        self.expected = expected
        self.actual = actual


class TooMuchContentionError(Exception):
    """The streams kept changing under the command; the client may retry."""


class _TornReadError(Exception):
    """A refusal decided on streams that moved while they were read: those that depend on the
    primary stream's state are read after it, so together they may show a state that never
    existed (an order's line read before its removal, the line's product after). Retried."""


@dataclass(frozen=True, slots=True)
class Edge:
    """What the HTTP edge knows about one request."""

    request_id: str
    correlation_id: str
    actor: str
    at: dt.datetime
    if_match: int | None = None
    idempotency_key: str | None = None
    fingerprint: bytes = b""


@dataclass(frozen=True, slots=True)
class Outcome:
    """The states after the command, the owner stream's version, and the last event's position."""

    states: Mapping[str, Any]
    versions: Mapping[str, int]
    primary: str | None
    position: int | None


Render = Callable[[Outcome], bytes]


@dataclass(frozen=True, slots=True)
class CommandPath:
    """What every command runs against, built once per process: the store, the states this
    process holds, and its queue per stream."""

    store: EventStore
    states: StreamStates
    queues: StreamQueues

    @classmethod
    def over(cls, store: EventStore) -> CommandPath:
        return cls(store, StreamStates(store), StreamQueues())


async def _moved(store: EventStore, loaded: Mapping[str, Loaded]) -> bool:
    """Whether any stream is now at another version than it was read at (one statement, so
    one snapshot: if none moved, the refusal was decided on a state that did exist)."""
    now = await store.stream_versions(list(loaded))
    return any(now[s] != one.version for s, one in loaded.items())


async def _primary_stream(store: EventStore, command: Command) -> str | None:
    target = spec_of(command).on(command)
    if isinstance(target, Claim):
        return await store.claim_owner(target.scope, target.value)
    return target


def _metadata(edge: Edge, command: Command) -> dict[str, Any]:
    meta = {
        "request_id": edge.request_id,
        "correlation_id": edge.correlation_id,
        "causation_id": edge.request_id,
        "actor": edge.actor,
        "command": type(command).__name__,
    }
    if edge.idempotency_key:
        meta["idempotency_key"] = edge.idempotency_key
    return meta


def _appends(
    events_by_stream: StreamEvents, loaded: Mapping[str, Loaded], meta: dict[str, Any]
) -> list[StreamAppend]:
    appends = []
    for stream, events in events_by_stream.items():
        version = loaded[stream].version
        new = []
        for event in events:
            type_name, schema_version, data = codec.encode(event)
            new.append(NewEvent(type_name, data, schema_version, meta))
        appends.append(StreamAppend(stream, version or Expect.NO_STREAM, new))
    return appends


async def _attempt(
    path: CommandPath, command: Command, edge: Edge, render: Render, *, fresh: bool
) -> tuple[bytes, bool]:
    spec = spec_of(command)
    stream = await _primary_stream(path.store, command)
    # The streams the command will touch, as far as this process can tell before reading: its
    # own, those it names, those its held state names. It waits its turn on all of them.
    held = path.states.peek(stream) if stream and not fresh else None
    touched = spec.streams(command, held) | ({stream} if stream else set())
    async with path.queues.turn(touched):
        # A conflict met while holding the turn comes from another process, whose write the
        # next tail read brings: tried again at once, before the commands queued behind it here.
        for retry in range(IN_TURN_RETRIES):
            try:
                return await _decided(
                    path, command, edge, render, spec=spec, stream=stream, fresh=fresh and not retry
                )
            except WrongExpectedVersionError:
                if retry == IN_TURN_RETRIES - 1:
                    raise
                APPENDS.labels("version_conflict").inc()
                COMMAND_RETRIES.inc()
    raise AssertionError("unreachable: the last retry raises")  # pragma: no cover


async def _decided(
    path: CommandPath,
    command: Command,
    edge: Edge,
    render: Render,
    *,
    spec: Spec,
    stream: str | None,
    fresh: bool,
) -> tuple[bytes, bool]:
    # One round trip for the primary stream and every stream the command names by itself (the
    # product of an order line, the client of a bill) or its held state names; a second only
    # for streams that depend on the state just read. A fresh entity's stream is known to be
    # empty: not read at all.
    loaded = {stream: EMPTY} if fresh and stream else {}
    first = {stream} - loaded.keys() if stream else set()
    held = path.states.peek(stream) if stream and not fresh else None
    loaded |= await path.states.load(sorted(first | spec.streams(command, held)))
    state = loaded[stream].state if stream else None
    if edge.if_match is not None and stream and loaded[stream].version != edge.if_match:
        raise PreconditionFailedError(edge.if_match, loaded[stream].version)
    needed = spec.streams(command, state) - {stream}
    dependent = needed - loaded.keys()
    loaded |= await path.states.load(sorted(dependent))
    loaded = {s: loaded[s] for s in needed | ({stream} if stream else set())}
    others = {s: loaded[s].state for s in needed}
    try:
        events_by_stream = spec.run(command, state, others, stream)
    except DomainError:
        if dependent and await _moved(path.store, loaded):
            raise _TornReadError from None
        raise
    states = {s: one.state for s, one in loaded.items()}
    versions = {s: one.version for s, one in loaded.items()}
    if not events_by_stream:
        return render(Outcome(states, versions, stream, None)), False
    changes = claim_changes(events_by_stream)
    claims = [StoreClaim(c.scope, c.value, owner) for c, owner in changes.claimed]
    releases = [StoreClaim(c.scope, c.value, owner) for c, owner in changes.released]
    appends = _appends(events_by_stream, loaded, _metadata(edge, command))
    after = dict(states)
    for s, events in events_by_stream.items():
        after[s] = fold(aggregate_of(s).decider, events, states[s])

    def outcome(position: int, new_versions: Mapping[str, int]) -> Outcome:
        return Outcome(after, {**versions, **new_versions}, stream, position)

    def committed(new_versions: Mapping[str, int]) -> None:
        """Only once the append has committed: the next command here starts from these."""
        path.states.remember({s: Loaded(v, after[s]) for s, v in new_versions.items()})

    if edge.idempotency_key:
        key = Idempotency(
            edge.idempotency_key,
            edge.fingerprint,
            lambda r: render(outcome(r.last_position, r.versions)),
        )
        done = await path.store.append_idempotent(key, appends, claims=claims, releases=releases)
        APPENDS.labels("replayed" if done.replayed else "ok").inc()
        if done.result is not None:
            committed(done.result.versions)
        return done.response, done.replayed
    result = await path.store.append(appends, claims=claims, releases=releases)
    APPENDS.labels("ok").inc()
    committed(result.versions)
    return render(outcome(result.last_position, result.versions)), False


async def handle(
    path: CommandPath, command: Command, edge: Edge, render: Render, *, fresh: bool = False
) -> tuple[bytes, bool]:
    """Run a command; return the rendered response and whether it is a replay of an earlier one.

    `fresh`: the command creates an entity under an id just drawn from its sequence, so its
    stream is empty and need not be read. Should it exist after all, the append's version check
    refuses, and the retry reads it."""
    for attempt in range(MAX_ATTEMPTS):
        if edge.idempotency_key:
            stored = await path.store.idempotent_response(edge.idempotency_key, edge.fingerprint)
            if stored is not None:
                IDEMPOTENT_REPLAYS.inc()
                return stored, True
        try:
            return await _attempt(path, command, edge, render, fresh=fresh and attempt == 0)
        except (WrongExpectedVersionError, _TornReadError):
            APPENDS.labels("version_conflict").inc()
            COMMAND_RETRIES.inc()
            await asyncio.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, 0.002 * 2**attempt)))  # noqa: S311
        except UniqueClaimTakenError as e:
            APPENDS.labels("unique_value_taken").inc()
            raise conflict_for(Claim(e.scope, e.value)) from e
    raise TooMuchContentionError(f"gave up after {MAX_ATTEMPTS} version conflicts")

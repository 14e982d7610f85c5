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
from eventstore import (
    AppendResult,
    EventStore,
    Expect,
    Idempotency,
    NewEvent,
    StreamAppend,
    UniqueClaimTakenError,
    WrongExpectedVersionError,
)
from eventstore import Claim as StoreClaim
from orders.metrics import APPENDS, COMMAND_RETRIES, IDEMPOTENT_REPLAYS
from orders.vault import PERSONAL_CLAIMS, Vault

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
    vault: Vault | None  # seals personal data (None: left plain, only to measure the cost)

    @classmethod
    def over(cls, store: EventStore, vault: Vault | None) -> CommandPath:
        return cls(store, StreamStates(store), StreamQueues(), vault)


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


async def _appends(
    path: CommandPath,
    events_by_stream: StreamEvents,
    loaded: Mapping[str, Loaded],
    meta: dict[str, Any],
) -> list[StreamAppend]:
    """The events as the store takes them: encoded, their personal values sealed."""
    appends = []
    for stream, events in events_by_stream.items():
        encoded = [codec.encode(event) for event in events]
        datas = [data for _, _, data in encoded]
        if path.vault is not None:
            datas = await path.vault.seal(stream, datas)
        new = [
            NewEvent(type_name, data, schema_version, meta)
            for (type_name, schema_version, _), data in zip(encoded, datas, strict=True)
        ]
        appends.append(StreamAppend(stream, loaded[stream].version or Expect.NO_STREAM, new))
    return appends


async def _claims(path: CommandPath, claims: list[tuple[Claim, str]]) -> list[StoreClaim]:
    """Claims as the store keeps them: a personal value (an email) only as its keyed hash."""
    if path.vault is None:
        return [StoreClaim(c.scope, c.value, owner) for c, owner in claims]
    return [
        StoreClaim(c.scope, await path.vault.claim_value(c.scope, c.value), owner)
        for c, owner in claims
    ]


async def _releases(path: CommandPath, released: list[tuple[Claim, str]]) -> list[StoreClaim]:
    """What the store releases: the claims as `_claims` keeps them and, for a personal value,
    the plain value too, which a claim taken before sealing holds (releasing a claim not held is
    a no-op: one more row matched in the append's DELETE, by scope, value and owner)."""
    hashed = await _claims(path, released)
    plain = [
        StoreClaim(c.scope, c.value, owner)
        for c, owner in released
        if path.vault is not None and c.scope in PERSONAL_CLAIMS
    ]
    return hashed + plain


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
    after = dict(states)
    for s, events in events_by_stream.items():
        after[s] = fold(aggregate_of(s).decider, events, states[s])

    def outcome(position: int, new_versions: Mapping[str, int]) -> Outcome:
        return Outcome(after, {**versions, **new_versions}, stream, position)

    appends = await _appends(path, events_by_stream, loaded, _metadata(edge, command))
    response, replayed, new_versions = await _append(
        path,
        edge,
        appends,
        events_by_stream,
        lambda r: render(outcome(r.last_position, r.versions)),
    )
    # only once the append has committed: the next command here starts from these
    path.states.remember({s: Loaded(v, after[s]) for s, v in new_versions.items()})
    return response, replayed


async def _append(
    path: CommandPath,
    edge: Edge,
    appends: list[StreamAppend],
    events_by_stream: StreamEvents,
    respond: Callable[[AppendResult], bytes],
) -> tuple[bytes, bool, Mapping[str, int]]:
    """Append with the claims the events take and release; the response, whether it is a
    replay, and the streams' new versions (none for a replay)."""
    changes = claim_changes(events_by_stream)
    claims = await _claims(path, changes.claimed)
    releases = await _releases(path, changes.released)
    # a taken claim names what the store holds: the value it stands for, for the 409's message
    claimed = {
        (s.scope, s.value): c.value for s, (c, _) in zip(claims, changes.claimed, strict=True)
    }
    try:
        if edge.idempotency_key:
            key = Idempotency(edge.idempotency_key, edge.fingerprint, respond)
            done = await path.store.append_idempotent(
                key, appends, claims=claims, releases=releases
            )
            APPENDS.labels("replayed" if done.replayed else "ok").inc()
            versions = {} if done.result is None else done.result.versions
            return done.response, done.replayed, versions
        result = await path.store.append(appends, claims=claims, releases=releases)
    except UniqueClaimTakenError as e:
        APPENDS.labels("unique_value_taken").inc()
        raise conflict_for(Claim(e.scope, claimed.get((e.scope, e.value), e.value))) from e
    APPENDS.labels("ok").inc()
    return respond(result), False, result.versions


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
    raise TooMuchContentionError(f"gave up after {MAX_ATTEMPTS} version conflicts")

"""Folded streams kept in PostgreSQL (the event store's `snapshots`), shared by the command API's
state cache and the projector's stream cache, so that loading a stream reads only its tail.

A snapshot is written under the fingerprint of the code that folded it: the source of the
aggregate's decider and state, of the shared fold, of the codec, of the records' building
(`domain.records`) and of the upcasters, and each of its event types' schema version. Code that
folds differently has another fingerprint and never reads a snapshot it did not write: it folds
from the events, and writes its own.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from typing import Any

from domain import codec, decider, records, upcasters
from domain.catalogue import BY_KIND, aggregate_of
from domain.decider import fold
from eventstore import JSON, StreamTail, Tail

EVERY = 200  # events between two snapshots of a stream


@functools.cache
def fingerprint(kind: str) -> str:
    """The fingerprint of the code that folds streams of `kind` (computed once per process)."""
    aggregate = BY_KIND[kind]
    digest = hashlib.sha256(kind.encode())
    modules = {
        inspect.getmodule(aggregate.decider.evolve),
        inspect.getmodule(aggregate.state),
        decider,
        codec,
        records,
        upcasters,
    }
    for source in sorted(inspect.getsource(m) for m in modules if m is not None):
        digest.update(source.encode())
    for event in aggregate.events:
        digest.update(f"{event.type_name}:{event.schema_version}".encode())
    return digest.hexdigest()[:32]


def tail(stream: str, after: int = 0, upto: int | None = None) -> Tail:
    """What to ask the store for a stream held at version `after`."""
    return Tail(stream, after, upto, fingerprint(stream.rpartition("-")[0]))


def folded(found: StreamTail, held: Any) -> Any:
    """The stream's state once its tail is applied to `held` (its state at `found.after`)."""
    aggregate = aggregate_of(found.stream_id)
    state = held
    if found.snapshot is not None:
        state = codec.decode_state(aggregate.state, found.snapshot.state)
    return fold(aggregate.decider, (codec.decode(e.type, e.data) for e in found.events), state)


def snapshot(stream: str, version: int, state: Any) -> tuple[str, str, int, JSON]:
    """The row `EventStore.save_snapshots` takes for a stream's state at `version`."""
    return stream, fingerprint(stream.rpartition("-")[0]), version, codec.encode_state(state)

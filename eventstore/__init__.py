"""The append-only PostgreSQL event store.

Append one or more streams atomically with optimistic concurrency, read streams and the
commit-ordered feed (whole, or as pages of some stream types for projections), sequence the feed
with its hash chain, and verify it. Its neighbours in the database (read models, checkpoints)
borrow `EventStore.connection()`, whose errors come out as the store's own. A new store can be
filled from an old one (`insert_copies` and the keys, claims and id sequences beside them), by
INSERTs only, for `orders store copy`.

Exceptions (all from `EventStoreError`):

    EventStoreError
    ├── InvalidAppendError          refused before the database: malformed stream id, unknown
    │   │                           expected version, empty append, non-JSON value
    │   └── PayloadTooLargeError    an event's data or metadata is over 1 MiB
    ├── WrongExpectedVersionError   a stream was not at the expected version; nothing written
    ├── UniqueClaimTakenError       a unique value is held by another stream; nothing written
    ├── IdempotencyKeyReusedError   a key came back with a different request
    ├── AppendOnlyViolationError    UPDATE/DELETE/TRUNCATE of events or feed: refused
    └── StoreUnavailableError       PostgreSQL cannot be reached; retryable
"""

from eventstore._errors import (
    AppendOnlyViolationError,
    EventStoreError,
    IdempotencyKeyReusedError,
    InvalidAppendError,
    PayloadTooLargeError,
    StoreUnavailableError,
    UniqueClaimTakenError,
    WrongExpectedVersionError,
)
from eventstore._model import (
    JSON,
    Appended,
    AppendResult,
    Claim,
    DataKey,
    Expect,
    ExpectedVersion,
    FeedEntry,
    FeedHead,
    FeedIdentity,
    FeedPage,
    FeedStatus,
    HorizonBlocker,
    Idempotency,
    Mention,
    NewEvent,
    RecordedEvent,
    Snapshot,
    StreamAppend,
    StreamEntry,
    StreamRange,
    StreamTail,
    Tail,
    VerifyReport,
)
from eventstore._read import Unseal, Upcast, no_unseal, no_upcast
from eventstore._store import EventStore

__all__ = [
    "JSON",
    "AppendOnlyViolationError",
    "AppendResult",
    "Appended",
    "Claim",
    "DataKey",
    "EventStore",
    "EventStoreError",
    "Expect",
    "ExpectedVersion",
    "FeedEntry",
    "FeedHead",
    "FeedIdentity",
    "FeedPage",
    "FeedStatus",
    "HorizonBlocker",
    "Idempotency",
    "IdempotencyKeyReusedError",
    "InvalidAppendError",
    "Mention",
    "NewEvent",
    "PayloadTooLargeError",
    "RecordedEvent",
    "Snapshot",
    "StoreUnavailableError",
    "StreamAppend",
    "StreamEntry",
    "StreamRange",
    "StreamTail",
    "Tail",
    "UniqueClaimTakenError",
    "Unseal",
    "Upcast",
    "VerifyReport",
    "WrongExpectedVersionError",
    "no_unseal",
    "no_upcast",
]

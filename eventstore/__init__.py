"""The append-only PostgreSQL event store.

Append one or more streams atomically with optimistic concurrency, read streams and the
commit-ordered feed, sequence the feed with its hash chain, and verify it.

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
    Expect,
    ExpectedVersion,
    FeedStatus,
    HorizonBlocker,
    Idempotency,
    NewEvent,
    RecordedEvent,
    StreamAppend,
    VerifyReport,
)
from eventstore._read import Upcast, no_upcast
from eventstore._store import EventStore

__all__ = [
    "JSON",
    "AppendOnlyViolationError",
    "AppendResult",
    "Appended",
    "Claim",
    "EventStore",
    "EventStoreError",
    "Expect",
    "ExpectedVersion",
    "FeedStatus",
    "HorizonBlocker",
    "Idempotency",
    "IdempotencyKeyReusedError",
    "InvalidAppendError",
    "NewEvent",
    "PayloadTooLargeError",
    "RecordedEvent",
    "StoreUnavailableError",
    "StreamAppend",
    "UniqueClaimTakenError",
    "Upcast",
    "VerifyReport",
    "WrongExpectedVersionError",
    "no_upcast",
]

from __future__ import annotations


class EventStoreError(Exception):
    """Base of every error the event store raises."""


class InvalidAppendError(EventStoreError, ValueError):
    """The append was refused before touching the database: a malformed stream id, an unknown
    expected-version value, an empty append, an oversized payload, a non-JSON value."""


class PayloadTooLargeError(InvalidAppendError):
    """One event's data or metadata encodes to more than the store accepts."""


class WrongExpectedVersionError(EventStoreError):
    """A stream was not at the version the append expected; nothing was written."""

    def __init__(self, stream_id: str, expected: int | str, actual: int) -> None:
        super().__init__(f"stream {stream_id} is at version {actual}, expected {expected}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class UniqueClaimTakenError(EventStoreError):
    """A unique value (an email, a name, a number) is held by another stream; nothing written."""

    def __init__(self, scope: str, value: str, owner: str) -> None:
        super().__init__(f"{scope} {value!r} is already taken")
        self.scope = scope
        self.value = value
        self.owner = owner


class IdempotencyKeyReusedError(EventStoreError):
    """An idempotency key came back with a different request than the one it first recorded."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for a different request")
        self.key = key


class AppendOnlyViolationError(EventStoreError):
    """Someone tried to UPDATE, DELETE or TRUNCATE the events or the feed; the database refused."""


class StoreUnavailableError(EventStoreError):
    """PostgreSQL cannot be reached or stopped answering; the operation may be retried."""

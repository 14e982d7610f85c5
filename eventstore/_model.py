"""The values that cross the store's boundary. Event payloads are plain JSON-safe dicts: the
domain's codec turns its typed events into them, and the store never needs the domain's types."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias
from uuid import UUID, uuid4

from eventstore._errors import InvalidAppendError

JSON: TypeAlias = dict[str, Any]

# "<type>-<id>": the type is the part before the first dash and becomes `stream_type`.
_STREAM_ID = re.compile(r"[a-z][a-z0-9_]{0,49}-[A-Za-z0-9_.:-]{1,150}")


class Expect(enum.Enum):
    """Expected versions that are not a number."""

    NO_STREAM = "no_stream"  # the stream must not exist yet
    ANY = "any"  # no check: the append goes after whatever is there


ExpectedVersion: TypeAlias = Expect | int


def expected_code(expected: ExpectedVersion) -> int:
    """The integer the database function takes: -1 any, 0 no stream, n exactly n."""
    if isinstance(expected, Expect):
        return -1 if expected is Expect.ANY else 0
    if isinstance(expected, bool) or not isinstance(expected, int) or expected < 1:
        raise InvalidAppendError(
            f"expected version must be Expect.NO_STREAM, Expect.ANY or an int >= 1: {expected!r}"
        )
    return expected


def check_stream_id(stream_id: object) -> str:
    if not isinstance(stream_id, str) or not _STREAM_ID.fullmatch(stream_id):
        raise InvalidAppendError(
            f"malformed stream id {stream_id!r}: expected '<type>-<id>' such as 'order-17'"
        )
    return stream_id


@dataclass(frozen=True, slots=True)
class NewEvent:
    type: str
    data: Mapping[str, Any]
    schema_version: int = 1
    metadata: Mapping[str, Any] = field(default_factory=dict)
    event_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class StreamAppend:
    stream_id: str
    expected: ExpectedVersion
    events: Sequence[NewEvent]


@dataclass(frozen=True, slots=True)
class Claim:
    """A unique value held by a stream, e.g. Claim("client_email", "a@b.c", "client-3")."""

    scope: str
    value: str
    owner: str


@dataclass(frozen=True, slots=True)
class AppendResult:
    versions: Mapping[str, int]  # each stream's version after the append
    global_positions: Sequence[int]  # of the appended events, in the order given

    @property
    def last_position(self) -> int:
        return max(self.global_positions)


@dataclass(frozen=True, slots=True)
class Idempotency:
    """Make an append idempotent. `fingerprint` identifies the request; `respond` turns the append's
    result into the response bytes stored with the key (in the same transaction) and returned, as
    they were, to every retry."""

    key: str
    fingerprint: bytes
    respond: Callable[[AppendResult], bytes]


@dataclass(frozen=True, slots=True)
class Appended:
    """What an idempotent append returns: the stored response, and whether this call wrote it."""

    response: bytes
    replayed: bool
    result: AppendResult | None  # None when replayed


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    global_position: int
    stream_id: str
    stream_type: str
    version: int
    event_id: UUID
    type: str
    schema_version: int
    data: JSON
    metadata: JSON
    recorded_at: datetime
    feed_position: int | None = None


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """An event as a projection reads it from the feed: no metadata, data upcast."""

    feed_position: int
    stream_id: str
    stream_type: str
    version: int
    type: str
    data: JSON


@dataclass(frozen=True, slots=True)
class FeedIdentity:
    """Which event sits at a feed position, read without its data (nothing to decode or upcast:
    what names an event that cannot be decoded)."""

    feed_position: int
    event_id: UUID
    stream_id: str
    type: str


@dataclass(frozen=True, slots=True)
class FeedPage:
    entries: list[FeedEntry]
    end: int  # the feed position the page covers up to, events of other types included
    end_hash: bytes | None  # the feed's hash at `end` (None: `end` is 0, before the feed)


@dataclass(frozen=True, slots=True)
class FeedHead:
    position: int  # 0: the feed is empty
    hash: bytes | None


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """An event of a stream read with its feed position (None: not sequenced yet)."""

    version: int
    feed_position: int | None
    type: str
    data: JSON


@dataclass(frozen=True, slots=True)
class StreamRange:
    """A run of consecutive stream ids of one type (bounds included), with about how many
    events they hold: a part of a rebuild's load."""

    first: str
    last: str
    events: int


@dataclass(frozen=True, slots=True)
class Tail:
    """What a reader asks of a stream: its events after `after` (the version it holds), up to
    `upto` if given, from the newest snapshot in between taken under `fingerprint`."""

    stream_id: str
    after: int = 0
    upto: int | None = None
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    version: int
    state: JSON


@dataclass(frozen=True, slots=True)
class StreamTail:
    stream_id: str
    after: int  # the version the reader held
    snapshot: Snapshot | None  # newer than `after`, when one was found
    events: list[StreamEntry]  # after the snapshot (or `after`), in version order

    @property
    def version(self) -> int:
        """The stream's version once the reader has applied the tail."""
        if self.events:
            return self.events[-1].version
        return self.after if self.snapshot is None else self.snapshot.version


@dataclass(frozen=True, slots=True)
class Mention:
    """Events of `types` whose data names `value` in `field` (`listed`: among its items)."""

    types: tuple[str, ...]
    field: str
    value: int
    listed: bool = False


@dataclass(frozen=True, slots=True)
class DataKey:
    """A person's data key, wrapped by the master key `master_id` (None: destroyed)."""

    subject: str
    generation: int
    wrapped: bytes | None
    master_id: str


@dataclass(frozen=True, slots=True)
class HorizonBlocker:
    """An open transaction that holds the sequencer's horizon back."""

    pid: int
    application_name: str
    transaction_age_seconds: float
    state: str
    query: str


@dataclass(frozen=True, slots=True)
class FeedStatus:
    head: int  # last feed position
    head_recorded_at: datetime | None
    pending: int  # committed events not yet in the feed
    blockers: Sequence[HorizonBlocker]


@dataclass(frozen=True, slots=True)
class VerifyReport:
    checked: int
    first_bad_position: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.first_bad_position is None

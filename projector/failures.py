"""A projection that cannot apply an event: what is recorded about it, and when it is tried again.

The record (`projection_failures`, one row per projection and slot) sits next to the
checkpoint it stopped: the event's feed position, id and type, and the error's last line,
redacted as log lines are (an exception's text may quote a document; the traceback goes to the
log once, the row keeps one short line). A trigger deletes it when the checkpoint passes the
event (see migration 0005), so nothing here clears it.

Retries back off exponentially, from BACKOFF_FIRST_SECONDS doubling up to BACKOFF_MAX_SECONDS:
a bug that stays costs one try a minute, a failure that was passing (a resource, a race) is
retried within a second or two.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg

from eventstore import EventStoreError
from orders.logs import redact
from orders.redis_client import REDIS_FAILURES
from projector.checkpoints import Checkpoint, Slot
from projector.errors import ProjectorError

BACKOFF_FIRST_SECONDS = 1.0
BACKOFF_MAX_SECONDS = 60.0
ERROR_CHARS = 500  # the recorded line is for a table cell and a health check, not a dump

# What fails for a reason other than the event: the store or Redis away, another runner moved
# the checkpoint. These stop the run as before (and are retried by it); anything else raised
# while reading, decoding, folding or rendering an event is the event's, and stops only its
# projection.
NOT_THE_EVENT: tuple[type[BaseException], ...] = (
    EventStoreError,
    psycopg.Error,
    *REDIS_FAILURES,
    ProjectorError,
    MemoryError,
    asyncio.CancelledError,
)


def backoff_seconds(attempts: int) -> float:
    """The wait before the next try, after `attempts` failed ones (1, 2, 4, ... 60 s)."""
    doubled = BACKOFF_FIRST_SECONDS * 2.0 ** min(max(attempts - 1, 0), 32)
    return min(doubled, BACKOFF_MAX_SECONDS)


def is_the_events(error: BaseException) -> bool:
    return not isinstance(error, NOT_THE_EVENT)


def error_line(error: BaseException) -> str:
    """The exception's type and the last line of its message, redacted and cut short."""
    lines = str(error).strip().splitlines()
    line = f"{type(error).__name__}: {lines[-1]}" if lines else type(error).__name__
    line = redact(line)
    return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 1] + "…"


@dataclass(frozen=True, slots=True)
class Poison:
    """The first event a projection cannot apply after its checkpoint, and what it raised."""

    position: int  # N: the projection stops at N - 1
    event_id: UUID
    stream_id: str
    event_type: str
    error: BaseException

    @property
    def line(self) -> str:
        return error_line(self.error)


@dataclass(frozen=True, slots=True)
class Recorded:
    attempts: int  # tries that failed on this event with this error, this one included
    new: bool  # first time this event fails this projection with this error: log the traceback
    retry_seconds: float


_RECORD = """
INSERT INTO projection_failures AS f
    (name, slot, generation, position, event_id, event_type, error, retry_at)
VALUES (%(name)s, %(slot)s, %(generation)s, %(position)s, %(event_id)s, %(event_type)s,
        %(error)s, now() + make_interval(secs => %(first)s))
ON CONFLICT (name, slot) DO UPDATE SET
    generation = excluded.generation, position = excluded.position,
    event_id = excluded.event_id, event_type = excluded.event_type, error = excluded.error,
    attempts = CASE WHEN f.generation = excluded.generation AND f.position = excluded.position
                     AND f.error = excluded.error THEN f.attempts + 1 ELSE 1 END,
    first_failed_at = CASE WHEN f.generation = excluded.generation
                            AND f.position = excluded.position
                           THEN f.first_failed_at ELSE now() END,
    failed_at = now()
RETURNING attempts, (xmax = 0) AS inserted
"""
_RETRY_AT = """
UPDATE projection_failures SET retry_at = now() + make_interval(secs => %s)
WHERE name = %s AND slot = %s
"""


async def record(
    conn: psycopg.AsyncConnection[Any], checkpoint: Checkpoint, poison: Poison
) -> Recorded:
    """Record (or count one more try of) the failure that stopped `checkpoint`'s projection."""
    slot = "live" if checkpoint.slot is Slot.LIVE else "rebuild"
    async with conn.transaction():
        cur = await conn.execute(
            _RECORD,
            {
                "name": checkpoint.projection, "slot": slot, "generation": checkpoint.generation,
                "position": poison.position, "event_id": poison.event_id,
                "event_type": poison.event_type, "error": poison.line,
                "first": BACKOFF_FIRST_SECONDS,
            },
        )  # fmt: skip
        row = await cur.fetchone()
        assert row is not None, "an upsert returns its row"
        attempts, inserted = row
        wait = backoff_seconds(attempts)
        await conn.execute(_RETRY_AT, (wait, checkpoint.projection, slot))
    return Recorded(attempts, new=inserted or attempts == 1, retry_seconds=wait)

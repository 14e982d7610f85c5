"""What is recorded about an event a projection cannot apply, and when it is tried again."""

from __future__ import annotations

import psycopg
import pytest

from domain.errors import EventSchemaError
from eventstore import StoreUnavailableError
from projector.failures import (
    BACKOFF_MAX_SECONDS,
    backoff_seconds,
    error_line,
    is_the_events,
)


def test_retries_back_off_exponentially_from_one_second_up_to_a_minute() -> None:
    schedule = [backoff_seconds(n) for n in range(1, 10)]
    assert schedule == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert backoff_seconds(10_000) == BACKOFF_MAX_SECONDS  # no overflow after days of retries


def test_the_recorded_line_is_the_last_one_of_the_message_redacted_and_short() -> None:
    error = ValueError("while rendering\nbad document password=hunter2 for 4111 1111 1111 1111")
    assert error_line(error) == ("ValueError: bad document password=[REDACTED] for [CARD_REDACTED]")
    assert error_line(KeyError()) == "KeyError"
    assert len(error_line(RuntimeError("x" * 10_000))) == 500


@pytest.mark.parametrize(
    ("error", "theirs"),
    [
        (EventSchemaError("ProductCreated expects fields [...], got ['bogus']"), True),
        (KeyError("name"), True),
        (StoreUnavailableError("down"), False),
        (psycopg.OperationalError("gone"), False),
        (OSError("reset"), False),
    ],
)
def test_only_what_the_event_raised_stops_its_projection(error: Exception, theirs: bool) -> None:
    """The store or Redis being away stops the run and is retried as before; anything else
    raised while reading, decoding, folding or rendering is the event's."""
    assert is_the_events(error) is theirs

"""What is recorded about an event a projection cannot apply, and when it is tried again."""

from __future__ import annotations

import psycopg
import pytest

from domain.errors import EventSchemaError
from eventstore import StoreUnavailableError
from projector.changes import Change, encode
from projector.failures import (
    BACKOFF_MAX_SECONDS,
    backoff_seconds,
    error_line,
    is_the_events,
)
from readmodels.schema import TABLES


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


@pytest.mark.parametrize(
    ("id_key", "client_id", "refused"),
    [(7, 3, None), (7, None, None), (2**63, 3, "orders.id_key"), (7, 2**70, "orders.client_id")],
)
def test_a_row_postgresql_would_refuse_is_refused_in_the_fold(
    id_key: int, client_id: int | None, refused: str | None
) -> None:
    """An id out of a bigint's range (a malformed event) fails the fold of its projection, which
    stops alone, not the write transaction every projection's rows of the batch share."""
    table = TABLES["orders"]
    document = {"id_key": id_key, "client_id": client_id, "status": 1}
    change = Change("orders", id_key, document, 5)
    if refused is None:
        assert encode(table, change).filters == (client_id, 1)
        return
    with pytest.raises(ValueError, match=f"{refused} = .* out of range for a bigint column"):
        encode(table, change)

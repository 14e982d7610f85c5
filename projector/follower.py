"""The live follower of `orders projector`: a thread that blocks on the command API's wake-up
signal (`orders.wakeup.SIGNAL`, a Redis list of at most one element) and catches the
projections up each time it is woken, in the worker's own process, without an RQ job.

Writes that come while a catch-up runs leave one element on the list, so they cost one more
catch-up, not one each. The wait is cut into short blocking pops (WAIT_SECONDS), so a stop
request is seen within one of them; and the follower catches up at least every `every` seconds
woken or not, the safety net for a wake-up that was lost (Redis down at commit, a projector
killed mid-catch-up) and for a Redis that is down: then it only polls, and PostgreSQL's read
models stay current.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from orders.wakeup import SIGNAL

log = logging.getLogger("projector.follower")

WAIT_SECONDS = 0.5  # one blocking pop at most: how long a stop request can wait for it
MIN_WAIT_SECONDS = 0.01  # BLPOP's 0 means forever


class Problems:
    """Logs each distinct problem of a kind once, not once per try."""

    def __init__(self) -> None:
        self._last: dict[str, str] = {}

    def report(self, kind: str, e: Exception) -> None:
        message = f"{type(e).__name__}: {e}"
        if self._last.get(kind) != message:
            log.error("%s: %s", kind, message)
            self._last[kind] = message

    def clear(self, kind: str) -> None:
        self._last.pop(kind, None)


def follow(
    stop: threading.Event, redis_url: str, every: float, catch_up: Callable[[], object]
) -> None:
    """Catch up when woken, and at least every `every` seconds, until `stop` is set."""
    signal = redis.Redis.from_url(
        redis_url, socket_timeout=WAIT_SECONDS + 2.0, socket_connect_timeout=1.0
    )
    problems = Problems()
    due = time.monotonic()  # a first catch-up at once: writes made while no projector ran
    try:
        while not stop.is_set():
            wait = min(WAIT_SECONDS, max(due - time.monotonic(), MIN_WAIT_SECONDS))
            woken = _woken(signal, stop, wait, problems)
            if stop.is_set():
                break
            if not woken and time.monotonic() < due:
                continue
            due = time.monotonic() + every
            try:
                catch_up()
                problems.clear("catch-up failed")
            except Exception as e:  # noqa: BLE001 - the follower must outlive any one failure
                problems.report("catch-up failed", e)
    finally:
        signal.close()


def _woken(signal: redis.Redis, stop: threading.Event, seconds: float, problems: Problems) -> bool:
    """Whether a wake-up came within `seconds` (popping it); while Redis is down, a plain wait."""
    try:
        woken = signal.blpop([SIGNAL], timeout=seconds) is not None
    except (redis.RedisError, OSError) as e:
        problems.report("wake-up signal unavailable (polling instead)", e)
        stop.wait(seconds)
        return False
    problems.clear("wake-up signal unavailable (polling instead)")
    return woken

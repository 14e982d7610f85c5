"""What the live projector did, told at a volume an operator can read: a DEBUG line per catch-up
that moved anything, and at INFO a summary every SUMMARY_SECONDS (feed positions applied,
catch-ups, the longest, the lag left), only when something was applied: an idle projector
says nothing, and a busy one says one line a minute rather than one per job."""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("projector.activity")

SUMMARY_SECONDS = 60.0


class Activity:
    def __init__(self, every: float = SUMMARY_SECONDS) -> None:
        self.every = every
        self._lock = threading.Lock()  # wake-up jobs and the sweep record from two threads
        self._start()

    def _start(self) -> None:
        self.since = time.monotonic()
        self.positions = 0
        self.catch_ups = 0
        self.longest = 0.0

    def record(self, covered: int, seconds: float, lag: int) -> None:
        """One catch-up: positions it covered, how long it took, positions left behind."""
        if covered:
            log.debug(
                "caught up %d feed positions in %.0f ms; %d behind the head",
                covered, seconds * 1000, lag,
            )  # fmt: skip
        with self._lock:
            if covered:
                self.positions += covered
                self.catch_ups += 1
                self.longest = max(self.longest, seconds)
            elapsed = time.monotonic() - self.since
            if elapsed < self.every:
                return
            if self.positions:
                log.info(
                    "projected %d feed positions in %d catch-ups over the last %.0f s"
                    " (longest %.0f ms); %d behind the head",
                    self.positions, self.catch_ups, elapsed, self.longest * 1000, lag,
                )  # fmt: skip
            self._start()

"""A rebuild's progress on stderr: feed positions done of those to go, events/s and ETA, on one
line redrawn at most a few times a second (a plain line per update when stderr is not a TTY)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from projector.runner import Step

REDRAW_SECONDS = 0.25
LOG_SECONDS = 5.0  # when stderr is a file or pipe: a line now and then, not a flood


class Progress:
    def __init__(self, label: str, start: int, out: TextIO | None = None) -> None:
        self.label = label
        self.start = start
        self.out = out or sys.stderr
        self.began = time.monotonic()
        self.done = 0
        self.total = 0
        self._drawn = 0.0

    def update(self, step: Step) -> None:
        self.done = step.end - self.start
        self.total = max(step.head - self.start, self.done)
        now = time.monotonic()
        every = REDRAW_SECONDS if self.out.isatty() else LOG_SECONDS
        if now - self._drawn >= every:
            self._drawn = now
            self._draw(now)

    def rate(self) -> float:
        elapsed = time.monotonic() - self.began
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        rate = self.rate()
        left = (self.total - self.done) / rate if rate else 0.0
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        return (
            f"{self.label} [{bar:<30}] {self.done:,}/{self.total:,} events"
            f"  {rate:,.0f} events/s  ETA {_clock(left)}"
        )

    def finish(self, note: str = "") -> None:
        self._draw(time.monotonic())
        if self.out.isatty():
            self.out.write("\n")
        if note:
            self.out.write(note + "\n")
        self.out.flush()

    def _draw(self, now: float) -> None:
        self._drawn = now
        if self.out.isatty():
            self.out.write("\r\x1b[2K" + self.line())
        else:
            self.out.write(self.line() + "\n")
        self.out.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"

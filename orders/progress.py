"""A progress line for long work on stderr: done/total, rate per second and ETA.

Redraws in place on a terminal and at most every few seconds otherwise (CI logs stay short).
"""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import Self, TextIO


class Progress:
    def __init__(
        self, label: str, total: int | None, unit: str = "items", stream: TextIO | None = None
    ) -> None:
        self.label, self.total, self.unit = label, total, unit
        self.stream = stream or sys.stderr
        self.done = 0
        self._start = time.monotonic()
        self._last_draw = 0.0
        self._tty = self.stream.isatty()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last_draw >= (0.2 if self._tty else 5.0):
            self._draw(now)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self._start
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        rate = self.rate
        if self.total:
            left = max(self.total - self.done, 0)
            eta = f", ETA {left / rate:,.0f}s" if rate > 0 else ""
            width = 24
            filled = int(width * min(self.done / self.total, 1.0))
            bar = "#" * filled + "-" * (width - filled)
            done = f"{self.done:,}/{self.total:,} {self.unit}"
            return f"{self.label} [{bar}] {done}, {rate:,.0f} {self.unit}/s{eta}"
        return f"{self.label} {self.done:,} {self.unit}, {rate:,.0f} {self.unit}/s"

    def _draw(self, now: float, *, final: bool = False) -> None:
        self._last_draw = now
        end = "\n" if final or not self._tty else ""
        prefix = "\r" if self._tty else ""
        self.stream.write(f"{prefix}{self.line()}{end}")
        self.stream.flush()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._draw(time.monotonic(), final=True)

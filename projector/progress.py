"""A rebuild's progress: the platform's one progress line (`orders.progress`), fed by the
runner's steps (feed positions done of those up to the head)."""

from __future__ import annotations

from orders.progress import Progress
from projector.runner import Step


class RebuildProgress(Progress):
    def __init__(self, label: str, start: int) -> None:
        super().__init__(label, None, "events")
        self.start = start

    def update(self, step: Step) -> None:
        done = step.end - self.start
        self.total = max(step.head - self.start, done)
        self.advance(done - self.done)

    def finish(self) -> None:
        self.__exit__(None, None, None)

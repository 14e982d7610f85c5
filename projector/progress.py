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


class LoadProgress(Progress):
    """The loaders' progress: events folded, each projection's and in all, of those up to the
    feed head the load stands at (a bound: events of other stream types count there too)."""

    def __init__(self, projections: list[str], head: int) -> None:
        super().__init__("load", head, "events")
        self.by_projection = dict.fromkeys(projections, 0)

    def update(self, projection: str, events: int) -> None:
        self.by_projection[projection] = events
        self.label = "load " + ", ".join(f"{n} {e:,}" for n, e in self.by_projection.items())
        self.advance(sum(self.by_projection.values()) - self.done)

    def finish(self) -> None:
        self.__exit__(None, None, None)

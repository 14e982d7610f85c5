"""The projector's errors.

ProjectorError
├── FeedBehindCheckpointError   the feed does not reach, or is not the one behind, a
│                               projection's checkpoint (a restored or reset database):
│                               refused until `orders projections rebuild`
├── CheckpointMovedError        a checkpoint was not where this runner left it: another runner
│                               got there first; nothing written, the run stops
├── StreamShorterThanFeedError  the feed names an event its stream does not hold
└── RebuildError                a rebuild cannot start or switch (already running, unknown name)
"""

from __future__ import annotations

from collections.abc import Sequence


class ProjectorError(Exception):
    pass


class FeedBehindCheckpointError(ProjectorError):
    def __init__(self, projection: str, position: int, problem: str) -> None:
        super().__init__(
            f"projection {projection!r} has applied the feed up to position {position}, but"
            f" {problem}: the event store was restored or reset. Its read models cannot be trusted"
            " and are not updated; run `orders projections rebuild"
            f" {projection}` to rebuild them from the feed"
        )
        self.projection = projection
        self.position = position


class CheckpointMovedError(ProjectorError):
    def __init__(self, projection: str, expected: int) -> None:
        super().__init__(
            f"checkpoint of {projection!r} is no longer at {expected}: another runner moved it"
        )
        self.projection = projection


class ProjectionsRefusedError(ProjectorError):
    def __init__(self, refused: Sequence[FeedBehindCheckpointError]) -> None:
        super().__init__("\n".join(str(e) for e in refused))
        self.refused = list(refused)


class StreamShorterThanFeedError(ProjectorError):
    def __init__(self, stream_id: str, wanted: int, found: int) -> None:
        super().__init__(f"stream {stream_id} holds {found} events, the feed needs {wanted}")


class RebuildError(ProjectorError):
    pass

"""What every event is, and the shape of a multi-stream decision's result.

Each aggregate lists its own events as a union (`ProductEvent`, ...), which its `evolve`
matches exhaustively; the catalogue (`domain.catalogue`) collects them all. Here is only what
the generic code (the codec, the claims, the stores) needs of any event.
"""

from dataclasses import Field
from typing import Any, ClassVar, Protocol, TypeAlias


class Event(Protocol):
    """A frozen dataclass with a stable type name and the version of its schema."""

    type_name: ClassVar[str]
    schema_version: ClassVar[int]
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]


# What a decision returns: the events to append, by stream id, all in one atomic append (each
# stream with the version its state was read at). Streams without events are left out.
StreamEvents: TypeAlias = dict[str, list[Event]]

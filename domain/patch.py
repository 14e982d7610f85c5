"""PUT is partial: a field that was not sent is `UNSET`, distinct from `None`.

Several fields may legitimately be null (a client's email, a review's comment, a bill's
discount), so `None` cannot also mean "not sent". Every `Change*` command defaults each
field to `UNSET`; the edge passes only the fields present in the request body. Sending
`None` for a field that cannot be null is an `InvalidCommandError`.
"""

import enum
from collections.abc import Callable
from typing import Final, TypeVar

T = TypeVar("T")


class Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = Unset.UNSET


def pick(sent: T | Unset, current: T) -> T:
    """The value after a PUT: what was sent, else what is there."""
    return current if isinstance(sent, Unset) else sent


def patched(sent: T | Unset, current: T, check: Callable[[T], T]) -> T:
    """The value after a PUT, a sent value first passing its field `check`."""
    return current if isinstance(sent, Unset) else check(sent)

"""Events from their stored JSON, fast: the projector decodes every event of the feed, so in a
rebuild `domain.codec.decode` (which walks each field's type hint on every call) is a third of
the time. Here each event type's field conversions are worked out once, from the same type hints
the codec reads, and applied by a plain loop.

This is not a second codec: it only decodes what `domain.codec` encoded, shaped by the same
dataclasses, and any type it does not know, or any data that does not fit, goes to
`codec.decode` (which raises the codec's own errors). A test checks both agree on every event
type. Its natural home is `domain.codec` itself (noted for the domain's owner).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

from domain import codec
from domain.events import Event

Convert = Callable[[Any], Any] | None  # None: the JSON value is already the field's value


class _UnknownHintError(Exception):
    pass


_SCALARS: dict[Any, Convert] = {
    int: None,
    str: None,
    bool: None,
    float: float,  # JSON may write 5.0 as 5
    Decimal: Decimal,  # encoded as a string
    dt.datetime: dt.datetime.fromisoformat,
    dt.date: dt.date.fromisoformat,
}


def _convert(hint: Any) -> Convert:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        (inner,) = (a for a in typing.get_args(hint) if a is not type(None))
        convert = _convert(inner)
        return None if convert is None else (lambda v: None if v is None else convert(v))
    if origin is tuple:
        item = _convert(typing.get_args(hint)[0])
        return tuple if item is None else (lambda v: tuple(item(x) for x in v))
    if hint in _SCALARS:
        return _SCALARS[hint]
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint
    raise _UnknownHintError(hint)


def _decoder(cls: type[Event]) -> Callable[[Mapping[str, Any]], Event] | None:
    hints = typing.get_type_hints(cls)
    try:
        fields = [(f.name, _convert(hints[f.name])) for f in dataclasses.fields(cls)]
    except _UnknownHintError:
        return None

    def decode(data: Mapping[str, Any]) -> Event:
        if len(data) != len(fields):
            raise KeyError("not the event's fields")
        return cls(*[data[n] if c is None else c(data[n]) for n, c in fields])

    return decode


_DECODERS = {name: _decoder(cls) for name, cls in codec.EVENT_TYPES.items()}


def decode(type_name: str, data: Mapping[str, Any]) -> Event:
    """As `domain.codec.decode`, for data at the current schema version."""
    fast = _DECODERS.get(type_name)
    if fast is not None:
        try:
            return fast(data)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            pass  # the codec says what is wrong with it
    return codec.decode(type_name, data)

"""The one codec: events, and folded states (for snapshots), to JSON-safe dicts and back, driven
by the type hints.

Every event is a frozen dataclass with a stable `type_name` and a `schema_version`; every state
a frozen dataclass too. Encoding turns `Decimal` into a string (exact, scale kept), dates and
datetimes into ISO strings, enums into ints, tuples and frozensets into lists and nested
dataclasses into objects; decoding reads each field back through its annotation, refusing a
value of another JSON type. No event or state needs code of its own here.

Decoding is on every read path (a command's streams, the projector's feed, a rebuild's
millions of events), so each event type's field conversions are worked out once, from its type
hints, and applied by a plain loop: the hints are never walked per event.
"""

import datetime as dt
import functools
import types
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from domain.catalogue import EVENT_CLASSES
from domain.errors import EventSchemaError
from domain.events import Event

EVENT_TYPES: dict[str, type[Event]] = {cls.type_name: cls for cls in EVENT_CLASSES}

Convert = Callable[[Any], Any]
T = TypeVar("T")


def encode(event: Event) -> tuple[str, int, dict[str, Any]]:
    """(type name, schema version, JSON-safe data) of an event."""
    data = {f.name: _to_json(getattr(event, f.name)) for f in fields(event)}
    return event.type_name, event.schema_version, data


def decode(type_name: str, data: Mapping[str, Any]) -> Event:
    """The event of `type_name` from data already at its current schema version."""
    cls, converts = _decoder(type_name)
    if len(data) != len(converts) or not all(name in data for name, _ in converts):
        expected = sorted(name for name, _ in converts)
        raise EventSchemaError(f"{type_name} expects fields {expected}, got {sorted(data)}")
    try:
        return cls(*[convert(data[name]) for name, convert in converts])
    except (TypeError, ValueError, InvalidOperation) as e:
        raise EventSchemaError(f"{type_name}: {e}") from e


def encode_state(state: Any) -> Any:
    """A folded state (a dataclass, or None before its entity exists) as JSON-safe data."""
    return _to_json(state)


def decode_state(cls: type[T], data: Any) -> T | None:
    """The state of class `cls` that `encode_state` encoded."""
    if data is None:
        return None
    try:
        decoded: T = _dataclass(cls)(data)
    except (KeyError, TypeError, ValueError, InvalidOperation) as e:
        raise EventSchemaError(f"{cls.__name__} snapshot: {e!r}") from e
    return decoded


@functools.cache
def _decoder(type_name: str) -> tuple[type[Event], list[tuple[str, Convert]]]:
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise EventSchemaError(f"unknown event type {type_name!r}")
    return cls, _fields(cls)


def _fields(cls: type[Any]) -> list[tuple[str, Convert]]:
    hints = get_type_hints(cls)
    return [(f.name, _converter(hints[f.name])) for f in fields(cls)]


_DATACLASSES: dict[Any, Convert] = {}


def _dataclass(cls: Any) -> Convert:
    """The conversion of a nested dataclass (an order's line, a client's address), once."""
    if cls not in _DATACLASSES:
        converts = _fields(cls)

        def convert(value: Any) -> Any:
            data = _typed(dict, value)
            if len(data) != len(converts):
                raise KeyError(f"{cls.__name__} expects fields {sorted(n for n, _ in converts)}")
            return cls(*[to(data[name]) for name, to in converts])

        _DATACLASSES[cls] = convert
    return _DATACLASSES[cls]


def _to_json(value: object) -> Any:
    match value:
        case Enum():
            return value.value
        case Decimal():
            return str(value)
        case dt.date():  # a datetime is a date too; both have isoformat()
            return value.isoformat()
        case tuple() | frozenset():
            items = [_to_json(item) for item in value]
            return sorted(items) if isinstance(value, frozenset) else items
        case _ if is_dataclass(value) and not isinstance(value, type):
            return {f.name: _to_json(getattr(value, f.name)) for f in fields(value)}
        case _:
            return value


def _converter(hint: Any) -> Convert:
    """The conversion of one field's JSON value, from its type hint."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        (inner,) = (arg for arg in get_args(hint) if arg is not type(None))
        convert = _converter(inner)
        return lambda value: None if value is None else convert(value)
    if origin in (tuple, frozenset):
        item = _converter(get_args(hint)[0])
        return lambda value: origin(item(v) for v in _typed(list, value))
    if is_dataclass(hint):
        return _dataclass(hint)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return lambda value: hint(_typed(int, value))
    return _SCALARS[hint]


def _typed(hint: type, value: Any) -> Any:
    """`value` if JSON gave it as `hint` (a bool is no int, though Python says it is)."""
    if type(value) is not hint:
        raise TypeError(f"expected {hint.__name__}, got {value!r}")
    return value


def _number(value: Any) -> float:
    """JSON may write 5.0 as 5."""
    if type(value) not in (int, float):
        raise TypeError(f"expected float, got {value!r}")
    return float(value)


_SCALARS: dict[Any, Convert] = {
    int: lambda value: _typed(int, value),
    str: lambda value: _typed(str, value),
    bool: lambda value: _typed(bool, value),
    float: _number,
    Decimal: lambda value: Decimal(_typed(str, value)),
    dt.datetime: lambda value: dt.datetime.fromisoformat(_typed(str, value)),
    dt.date: lambda value: dt.date.fromisoformat(_typed(str, value)),
}

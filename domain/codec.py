"""The one event codec: events to JSON-safe dicts and back, driven by the type hints.

Every event is a frozen dataclass with a stable `type_name` and a `schema_version`. Encoding
turns `Decimal` into a string (exact, scale kept), dates and datetimes into ISO strings, enums
into ints and tuples into lists; decoding reads each field back through its annotation. No
event needs code of its own here.
"""

import datetime as dt
import functools
import types
from collections.abc import Mapping
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Union, get_args, get_origin, get_type_hints

from domain.errors import EventSchemaError
from domain.events import EVENT_CLASSES, Event
from domain.upcasters import upcast

EVENT_TYPES: dict[str, type[Event]] = {cls.type_name: cls for cls in EVENT_CLASSES}
if len(EVENT_TYPES) != len(EVENT_CLASSES):  # pragma: no cover -- a guard for future edits
    raise RuntimeError("two event classes share a type_name")


def encode(event: Event) -> tuple[str, int, dict[str, Any]]:
    """(type name, schema version, JSON-safe data) of an event."""
    data = {f.name: _to_json(getattr(event, f.name)) for f in fields(event)}
    return event.type_name, event.schema_version, data


def decode(type_name: str, data: Mapping[str, Any]) -> Event:
    """The event of `type_name` from data already at its current schema version."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise EventSchemaError(f"unknown event type {type_name!r}")
    hints = _hints(type_name)
    if set(data) != set(hints):
        raise EventSchemaError(f"{type_name} expects fields {sorted(hints)}, got {sorted(data)}")
    try:
        return cls(**{name: _from_json(hints[name], value) for name, value in data.items()})
    except (TypeError, ValueError, InvalidOperation) as e:
        raise EventSchemaError(f"{type_name}: {e}") from e


def decode_stored(type_name: str, schema_version: int, data: Mapping[str, Any]) -> Event:
    """The event from its stored form at any schema version: upcast, then decode."""
    return decode(type_name, upcast(type_name, schema_version, dict(data)))


@functools.cache
def _hints(type_name: str) -> dict[str, Any]:
    cls = EVENT_TYPES[type_name]
    hints = get_type_hints(cls)
    return {f.name: hints[f.name] for f in fields(cls)}


def _to_json(value: object) -> Any:
    match value:
        case Enum():
            return value.value
        case Decimal():
            return str(value)
        case dt.date():  # a datetime is a date too; both have isoformat()
            return value.isoformat()
        case tuple():
            return [_to_json(item) for item in value]
        case _:
            return value


def _from_json(hint: Any, value: Any) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        (inner,) = (arg for arg in get_args(hint) if arg is not type(None))
        return _from_json(inner, value)
    if origin is tuple:
        (item, _) = get_args(hint)
        return tuple(_from_json(item, v) for v in value)
    return _scalar(hint, value)


def _scalar(hint: type, value: Any) -> Any:
    if hint is Decimal:
        return Decimal(_typed(str, value))
    if hint is dt.datetime:
        return dt.datetime.fromisoformat(_typed(str, value))
    if hint is dt.date:
        return dt.date.fromisoformat(_typed(str, value))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)  # JSON may write 5.0 as 5
    if issubclass(hint, Enum):
        return hint(_typed(int, value))
    return _typed(hint, value)


def _typed(hint: type, value: Any) -> Any:
    if not isinstance(value, hint) or (isinstance(value, bool) and hint is not bool):
        raise TypeError(f"expected {hint.__name__}, got {value!r}")
    return value

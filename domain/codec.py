"""The one codec: events, and folded states (for snapshots), to JSON-safe dicts and back, driven
by the type hints.

Every event is a frozen dataclass with a stable `type_name` and a `schema_version`; every state
a frozen dataclass too. Encoding turns `Decimal` into a string (exact, scale kept), dates and
datetimes into ISO strings, enums into ints, tuples and frozensets into lists and nested
dataclasses into objects; decoding reads each field back through its annotation, refusing a
value of another JSON type. No event or state needs code of its own here.

Decoding is on every read path (a command's streams, the projector's feed, a rebuild's
millions of events), so each event type's decoding is worked out once, from its type hints, and
written as the source of one function (`_compiled`, as `dataclasses` writes `__init__`): the
hints are never walked per event, and a field costs a check inline, not a call or two.
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
from domain.records import slot_setters

EVENT_TYPES: dict[str, type[Event]] = {cls.type_name: cls for cls in EVENT_CLASSES}

Convert = Callable[[Any], Any]
T = TypeVar("T")


def encode(event: Event) -> tuple[str, int, dict[str, Any]]:
    """(type name, schema version, JSON-safe data) of an event."""
    data = {f.name: _to_json(getattr(event, f.name)) for f in fields(event)}
    return event.type_name, event.schema_version, data


def decode(type_name: str, data: Mapping[str, Any]) -> Event:
    """The event of `type_name` from data already at its current schema version."""
    names, read = _decoder(type_name)
    if data.keys() != names:
        raise EventSchemaError(f"{type_name} expects fields {sorted(names)}, got {sorted(data)}")
    try:
        return read(data)
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
def _decoder(type_name: str) -> tuple[frozenset[str], Callable[[Mapping[str, Any]], Event]]:
    """The field names of `type_name`, and its decoding of data holding exactly those."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise EventSchemaError(f"unknown event type {type_name!r}")
    return frozenset(f.name for f in fields(cls)), _compiled(cls)


def _compiled(cls: type[Event]) -> Callable[[Mapping[str, Any]], Event]:
    """The decoding of `cls`, written out as one function: each field read, checked and
    converted in field order (the first wrong field is the one named), then the event built."""
    hints = get_type_hints(cls)
    names = [f.name for f in fields(cls)]
    env: dict[str, Any] = {"cls": cls, "wrong": _wrong, "number": _number}
    lines = []
    for n, name in enumerate(names):
        lines += [f"v{n} = data[{name!r}]", *_reading(f"v{n}", hints[name], env)]
    setters = slot_setters(cls)
    if setters is None:
        lines.append(f"return cls({', '.join(f'v{n}' for n in range(len(names)))})")
    else:  # stored straight into its slots (`domain.records`)
        env |= {"new": object.__new__} | {f"set_{n}": setters[name] for n, name in enumerate(names)}
        lines += ["event = new(cls)", *(f"set_{n}(event, v{n})" for n in range(len(names)))]
        lines.append("return event")
    function = f"decode_{cls.__name__}"
    source = f"def {function}(data):\n" + "".join(f"    {line}\n" for line in lines)
    exec(source, env)  # noqa: S102 -- source made of our own classes' field names, never of data
    compiled: Callable[[Mapping[str, Any]], Event] = env[function]
    return compiled


def _reading(var: str, hint: Any, env: dict[str, Any]) -> list[str]:
    """The lines of `_compiled` that turn local `var`, as JSON gave it, into a `hint`: the
    checks and conversions of `_converter`, from the same table, inline for the scalars."""
    if get_origin(hint) in (Union, types.UnionType):
        (inner,) = (arg for arg in get_args(hint) if arg is not type(None))
        return [f"if {var} is not None:", *(f"    {line}" for line in _reading(var, inner, env))]
    if hint is float:
        return [f"if type({var}) is not float:", f"    {var} = number({var})"]
    if get_origin(hint) in (tuple, frozenset) or is_dataclass(hint):  # rare: called, not inline
        env[f"to_{var}"] = _converter(hint)
        return [f"{var} = to_{var}({var})"]
    json_type, convert = _scalar(hint)
    stored = json_type.__name__  # int, str or bool: a builtin's name in the source
    checked = [f"if type({var}) is not {stored}:", f"    raise wrong({stored}, {var})"]
    if convert is None:
        return checked
    env[f"to_{var}"] = convert
    return [*checked, f"{var} = to_{var}({var})"]


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
    if hint is float:
        return _number
    json_type, to = _scalar(hint)
    if to is None:
        return lambda value: _typed(json_type, value)
    return lambda value: to(_typed(json_type, value))


def _scalar(hint: Any) -> tuple[type, Convert | None]:
    """The JSON type a scalar field is stored as, and its conversion from that (None: the
    value itself)."""
    if isinstance(hint, type) and issubclass(hint, Enum):
        return int, hint
    return _SCALARS[hint]


def _typed(hint: type, value: Any) -> Any:
    """`value` if JSON gave it as `hint` (a bool is no int, though Python says it is)."""
    if type(value) is not hint:
        raise _wrong(hint, value)
    return value


def _wrong(hint: type, value: Any) -> TypeError:
    return TypeError(f"expected {hint.__name__}, got {value!r}")


def _number(value: Any) -> float:
    """JSON may write 5.0 as 5."""
    if type(value) not in (int, float):
        raise TypeError(f"expected float, got {value!r}")
    return float(value)


# A scalar's type hint -> the JSON type it is stored as, and its conversion from that (None: the
# value itself). Floats (either JSON number: `_number`) and enums (ints: `_scalar`) aside.
_SCALARS: dict[Any, tuple[type, Convert | None]] = {
    int: (int, None),
    str: (str, None),
    bool: (bool, None),
    Decimal: (str, Decimal),
    dt.datetime: (str, dt.datetime.fromisoformat),
    dt.date: (str, dt.date.fromisoformat),
}

"""Frozen dataclasses (events, states) built by storing their fields straight into their
slots, past `__init__`: decoding an event (`domain.codec`) and evolving a state (`replace`)
build one per event, millions in a rebuild, and a frozen dataclass's `__init__` pays an
`object.__setattr__` per field (`dataclasses.replace` a dict and a call by keyword besides).

Only for a class whose `__init__` would do nothing else: every field an init field stored in a
slot, no `__post_init__`. Any other class is built through its `__init__`, as before.
"""

import dataclasses
import functools
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["replace", "slot_setters"]

D = TypeVar("D", bound="DataclassInstance")
Setter = Callable[[Any, Any], None]


@functools.cache
def slot_setters(cls: type) -> dict[str, Setter] | None:
    """Each field's setter of its slot, in field order, if `cls`'s `__init__` only stores its
    fields there; else None."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        return None
    fields = dataclasses.fields(cls)
    slots: list[Any] = [getattr(cls, f.name, None) for f in fields]
    stored = all(isinstance(slot, types.MemberDescriptorType) for slot in slots)
    if not stored or not all(f.init for f in fields):
        return None
    return {f.name: slot.__set__ for f, slot in zip(fields, slots, strict=True)}


def _replace(state: D, /, **changes: Any) -> D:
    """`dataclasses.replace`, in half its time where `slot_setters` allow."""
    setters = slot_setters(type(state))
    if setters is None or not changes.keys() <= setters.keys():
        return dataclasses.replace(state, **changes)  # with its own checks and errors
    copy: D = object.__new__(type(state))
    for name, store in setters.items():
        store(copy, changes[name] if name in changes else getattr(state, name))
    return copy


if TYPE_CHECKING:
    # mypy checks the names and types of the changes to a `dataclasses.replace` (its
    # dataclasses plugin), which `_replace` is the equivalent of.
    from dataclasses import replace
else:
    replace = _replace

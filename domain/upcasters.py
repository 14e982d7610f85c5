"""Old event schemas, brought up to date on every read path.

`UPCASTERS[(type name, v)]` turns the data of version v into version v + 1; `upcast` applies
the chain up to the version the code knows. Stored events are never rewritten.

The example that exists: version 1 of ClientCreated and ClientChanged held one `name` with
"First Last"; version 2 has `name` and `lastname`, as the original API did.
"""

from collections.abc import Callable
from typing import Any, TypeAlias

from domain.catalogue import EVENT_CLASSES
from domain.errors import EventSchemaError

Data: TypeAlias = dict[str, Any]

CURRENT_VERSIONS: dict[str, int] = {cls.type_name: cls.schema_version for cls in EVENT_CLASSES}


def split_full_name(data: Data) -> Data:
    """v1 -> v2: "First Last" becomes name "First", lastname "Last" (the last word)."""
    full = data.get("name")
    parts = [] if full is None else full.rsplit(maxsplit=1)
    name, lastname = (parts[0], parts[1]) if len(parts) == 2 else (full, None)  # noqa: PLR2004 -- first and last
    return {**data, "name": name, "lastname": lastname}


UPCASTERS: dict[tuple[str, int], Callable[[Data], Data]] = {
    ("ClientCreated", 1): split_full_name,
    ("ClientChanged", 1): split_full_name,
}


def upcast(type_name: str, version: int, data: Data) -> Data:
    """`data` of `type_name` at `version`, brought to the current schema version."""
    current = CURRENT_VERSIONS.get(type_name)
    if current is None:
        raise EventSchemaError(f"unknown event type {type_name!r}")
    while version < current:
        step = UPCASTERS.get((type_name, version))
        if step is None:
            raise EventSchemaError(f"no upcaster for {type_name} v{version}")
        data, version = step(data), version + 1
    if version != current:
        raise EventSchemaError(f"{type_name} v{version} is newer than this code (v{current})")
    return data

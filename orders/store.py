"""The event store as every service opens it: with the domain's upcaster chain on every read."""

from __future__ import annotations

from typing import Any

from domain.upcasters import CURRENT_VERSIONS, upcast
from eventstore import EventStore


def upcast_stored(type_name: str, version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return CURRENT_VERSIONS[type_name], upcast(type_name, version, data)


async def open_store(url: str, *, max_size: int, application_name: str) -> EventStore:
    return await EventStore.open(
        url,
        upcast=upcast_stored,
        min_size=1,
        max_size=max_size,
        application_name=application_name,
    )

"""The event store as every service opens it: the domain's upcaster chain and, with a master key,
the vault's opening of personal data, on every read."""

from __future__ import annotations

from typing import Any

from domain.upcasters import CURRENT_VERSIONS, upcast
from eventstore import EventStore
from orders.vault import MasterKey, Vault


def upcast_stored(type_name: str, version: int, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return CURRENT_VERSIONS[type_name], upcast(type_name, version, data)


async def open_sealed_store(
    url: str, *, master: MasterKey | None, max_size: int, application_name: str
) -> tuple[EventStore, Vault | None]:
    """The store and its vault (None without a master key: personal data neither sealed on
    the way in nor opened on the way out; see `orders.vault.master_key`)."""
    store = await EventStore.open(
        url,
        upcast=upcast_stored,
        min_size=1,
        max_size=max_size,
        application_name=application_name,
    )
    if master is None:
        return store, None
    vault = Vault(store, master)
    store.unseal = vault.unseal
    return store, vault


async def open_store(
    url: str, *, master: MasterKey | None, max_size: int, application_name: str
) -> EventStore:
    store, _ = await open_sealed_store(
        url, master=master, max_size=max_size, application_name=application_name
    )
    return store

"""The operators' commands on personal data:

orders erase client N      erase a client's personal data (as POST /admin/erasures does)
orders erase reapply       destroy again the keys of every erasure in the register (after
                           restoring a backup taken before some of them)
orders keys new-master     print a new master key (ORDERS_MASTER_KEY)
orders keys rewrap         wrap every data key anew with ORDERS_MASTER_KEY, from
                           ORDERS_PREVIOUS_MASTER_KEY (rotation)
orders store copy --to URL copy the event store into a new database with every personal value
                           sealed (what was written before sealing; `orders.store_copy`)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import migrations
from command_api.erasure import Erased, Notify, erase_client, read_register, reapply_erasure
from command_api.handling import CommandPath, Edge
from domain.errors import DomainError
from eventstore import EventStore, EventStoreError
from orders.embedded import ensure_servers
from orders.notices import ErasureNotices
from orders.settings import Settings
from orders.store import open_sealed_store
from orders.store_copy import copy_store, database_name
from orders.vault import MasterKey, Vault, master_key
from orders.wakeup import Waker


class PersonalDataError(Exception):
    """A refusal worth one line (no master key, nothing to rewrap from, no such client)."""


def _register(settings: Settings) -> Any:
    return settings.erasure_register or settings.data_dir.resolve() / "erasures"


async def _vault(settings: Settings, database_url: str) -> tuple[CommandPath, Vault]:
    master = master_key(settings)
    if master is None:
        raise PersonalDataError("personal data is not sealed here (ORDERS_SEAL_PERSONAL_DATA)")
    store, vault = await open_sealed_store(
        database_url, master=master, max_size=4, application_name="orders-erase"
    )
    assert vault is not None
    return CommandPath.over(store, vault), vault


@asynccontextmanager
async def _erasing(settings: Settings) -> AsyncIterator[tuple[CommandPath, Notify]]:
    """The command path, and the notice every process acts on; the projector woken after."""
    endpoints = ensure_servers(settings)
    path, _ = await _vault(settings, endpoints.database_url)
    notices, waker = ErasureNotices(endpoints.queue_url), Waker(endpoints.queue_url)
    try:
        yield path, notices.publish
        await waker.wake()
    except DomainError as e:  # a client that never existed
        raise PersonalDataError(str(e)) from e
    finally:
        await notices.close()
        await waker.close()
        await path.store.close()


def _edge() -> Edge:
    return Edge(str(uuid.uuid4()), "orders-erase", "orders erase", dt.datetime.now(dt.UTC))


def erase(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> Erased:
        async with _erasing(settings) as (path, notify):
            register = _register(settings)
            return await erase_client(
                path, args.client_id, _edge(), notify=notify, register=register
            )

    erased = asyncio.run(run())
    print(  # noqa: T201
        f"client {erased.client_id}: personal data erased ({erased.keys_destroyed} key(s)"
        f" destroyed, {erased.responses_erased} stored response(s) erased)"
    )
    return 0


def reapply(_args: argparse.Namespace, settings: Settings) -> int:
    """Every erasure in the register done again: for a backup restored from before some."""

    async def run() -> tuple[int, int]:
        async with _erasing(settings) as (path, notify):
            subjects = read_register(_register(settings))
            again = [await reapply_erasure(path, s, _edge(), notify=notify) for s in subjects]
        return len(subjects), sum(again)

    done, appended = asyncio.run(run())
    print(  # noqa: T201
        f"{done} erasure(s) re-applied; {appended} were missing from the log and appended again"
    )
    return 0


def new_master(_args: argparse.Namespace, _settings: Settings) -> int:
    print(MasterKey.generate())  # noqa: T201
    return 0


def rewrap(_args: argparse.Namespace, settings: Settings) -> int:
    if settings.previous_master_key is None:
        raise PersonalDataError("set ORDERS_PREVIOUS_MASTER_KEY to the key the data keys are under")

    async def run() -> int:
        path, vault = await _vault(settings, ensure_servers(settings).database_url)
        try:
            moved = await vault.rewrap()
        finally:
            await path.store.close()
        print(f"{moved} data key(s) now wrapped by master key {vault.master.id}")  # noqa: T201
        return 0

    return asyncio.run(run())


def copy(args: argparse.Namespace, settings: Settings) -> int:
    """The store copied into the database `--to` (migrated first), then its new chain verified."""
    master = master_key(settings)
    if master is None:
        raise PersonalDataError("personal data is not sealed here (ORDERS_SEAL_PERSONAL_DATA)")
    source_url = ensure_servers(settings).database_url
    migrations.upgrade(args.to)

    async def run() -> int:
        async with (
            await EventStore.open(source_url, max_size=2, application_name="orders-copy") as old,
            await EventStore.open(args.to, max_size=2, application_name="orders-copy") as new,
        ):
            try:
                copied = await copy_store(old, new, master, source_name=database_name(source_url))
            except EventStoreError as e:
                raise PersonalDataError(str(e)) from e
            report = await new.verify()
        print(  # noqa: T201
            f"{copied.events} event(s) copied, up to feed position {copied.feed_position} of"
            f" {database_name(source_url)}; {copied.keys} data key(s), {copied.claims} claim(s);"
            f" the new chain: {'ok' if report.ok else 'BROKEN'},"
            f" {report.checked} feed positions verified"
        )
        return 0 if report.ok else 1

    return asyncio.run(run())

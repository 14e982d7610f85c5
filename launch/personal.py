"""The operators' commands on personal data:

orders erase client N      erase a client's personal data (as POST /admin/erasures does)
orders erase reapply       destroy again the keys of every erasure in the register (after
                           restoring a backup taken before some of them)
orders keys new-master     print a new master key (ORDERS_MASTER_KEY)
orders keys rewrap         wrap every data key anew with ORDERS_MASTER_KEY, from
                           ORDERS_PREVIOUS_MASTER_KEY (rotation)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import uuid
from typing import Any

from command_api.erasure import erase_client, read_register
from command_api.handling import CommandPath, Edge
from orders.embedded import ensure_servers
from orders.notices import ErasureNotices
from orders.settings import Settings
from orders.store import open_sealed_store
from orders.vault import MasterKey, Vault, master_key
from orders.wakeup import Waker


class PersonalDataError(Exception):
    """A refusal worth one line (no master key, nothing to rewrap from)."""


def _register(settings: Settings) -> Any:
    return settings.erasure_register or settings.data_dir.resolve() / "erasures"


async def _vault(settings: Settings) -> tuple[CommandPath, Vault]:
    master = master_key(settings)
    if master is None:
        raise PersonalDataError("personal data is not sealed here (ORDERS_SEAL_PERSONAL_DATA)")
    endpoints = ensure_servers(settings)
    store, vault = await open_sealed_store(
        endpoints.database_url, master=master, max_size=4, application_name="orders-erase"
    )
    assert vault is not None
    return CommandPath.over(store, vault), vault


def erase(args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> int:
        path, _ = await _vault(settings)
        redis_url = ensure_servers(settings).redis_url
        notices, waker = ErasureNotices(redis_url), Waker(redis_url)
        try:
            edge = Edge(str(uuid.uuid4()), "orders-erase", "orders erase", dt.datetime.now(dt.UTC))
            erased = await erase_client(
                path, args.client_id, edge, notify=notices.publish, register=_register(settings)
            )
            await waker.wake()
        finally:
            await notices.close()
            await waker.close()
            await path.store.close()
        print(  # noqa: T201
            f"client {erased.client_id}: personal data erased ({erased.keys_destroyed} key(s)"
            f" destroyed, {erased.responses_erased} stored response(s) erased)"
        )
        return 0

    return asyncio.run(run())


def reapply(_args: argparse.Namespace, settings: Settings) -> int:
    async def run() -> int:
        path, vault = await _vault(settings)
        try:
            subjects = read_register(_register(settings))
            destroyed = [await vault.destroy(subject) for subject in subjects]
            for subject in subjects:
                await path.store.delete_snapshots([subject])
        finally:
            await path.store.close()
        print(f"{len(subjects)} erasure(s) re-applied, {sum(destroyed)} key(s) destroyed")  # noqa: T201
        return 0

    return asyncio.run(run())


def new_master(_args: argparse.Namespace, _settings: Settings) -> int:
    print(MasterKey.generate())  # noqa: T201
    return 0


def rewrap(_args: argparse.Namespace, settings: Settings) -> int:
    if settings.previous_master_key is None:
        raise PersonalDataError("set ORDERS_PREVIOUS_MASTER_KEY to the key the data keys are under")
    old = MasterKey.parse(settings.previous_master_key.get_secret_value())

    async def run() -> int:
        path, vault = await _vault(settings)
        try:
            moved = await vault.rewrap(old)
        finally:
            await path.store.close()
        print(f"{moved} data key(s) now wrapped by master key {vault.master.id}")  # noqa: T201
        return 0

    return asyncio.run(run())

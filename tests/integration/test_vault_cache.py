"""The vault's key cache is bounded: a process that reads many people's data (a rebuild's loader
reads every client; a long-lived API touches more and more of them) holds the keys of at most
`CACHE_SUBJECTS` subjects, the oldest read going first, and every value still opens."""

from __future__ import annotations

import pytest

from orders import vault as vault_module
from orders.store import open_sealed_store
from tests.keys import MASTER

pytestmark = pytest.mark.integration


async def test_the_keys_held_stay_under_the_bound_and_every_value_still_opens(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vault_module, "CACHE_SUBJECTS", 3)
    store, vault = await open_sealed_store(
        database_url, master=MASTER, max_size=2, application_name="test"
    )
    assert vault is not None
    try:
        people = {f"client-{n}": {"name": f"Ada {n}", "email": f"ada{n}@x.org"} for n in range(8)}
        sealed = {s: (await vault.seal(s, [data]))[0] for s, data in people.items()}
        assert all(sealed[s]["name"] != data["name"] for s, data in people.items())
        assert vault.subjects_held == 3

        for _ in range(2):  # a second pass reads again the keys the first one let go
            opened = await vault.unseal(list(sealed.items()))
            assert opened == list(people.values())
            assert vault.subjects_held == 3
    finally:
        await store.close()

"""SIGKILL the projector, again and again, while the shop writes, then while a rebuild runs: the
read models it left (PostgreSQL rows, Redis documents and indexes) are the ones the rebuild
makes of the same feed, and no acknowledged write is lost or doubled."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

import pytest

from loadtest import faults, invariants
from loadtest.cluster import Cluster
from tests.faults.conftest import rounds, steps, traffic

pytestmark = pytest.mark.faults


async def test_a_projector_killed_during_writes_and_a_rebuild_leaves_what_a_rebuild_makes(
    healed: Cluster,
) -> None:
    cluster, rng = healed, random.Random(11)
    before = Counter(cluster.faults.by_kind)
    async with traffic(cluster, seed=11) as shop:
        for _ in range(rounds(3, 12)):
            await steps(shop, rng.randint(3, 8))  # writes land, the projector catches up
            await asyncio.to_thread(faults.kill_projector, cluster, rng)

    async def rebuild_under_kills() -> None:
        for _ in range(rounds(1, 3)):  # each a whole rebuild, with the projector killed in it
            await asyncio.to_thread(faults.kill_projector_in_rebuild, cluster, rng)

    db, redis = cluster.database_url, cluster.redis_url
    same = await invariants.read_models_match_rebuild(db, redis, rebuild_under_kills)
    assert same.passed, same.detail
    killed = Counter(cluster.faults.by_kind) - before
    assert killed["projector_killed"] == rounds(3, 12) + rounds(1, 3)
    assert killed["projector_killed_in_rebuild"] == rounds(1, 3)
    once = await invariants.writes_are_exactly_once(db, shop.ledger.writes, every_keyed_write=False)
    assert once.passed, once.detail
    assert sum(w.token is not None for w in shop.ledger.writes) > 20
    stock = await invariants.stock_is_conserved(db)
    assert stock.passed, stock.detail

"""The soak, short: mixed traffic with random faults for 20 seconds (3 minutes with
ORDERS_FAULTS=full), then every final invariant holds. `make soak` runs it for longer."""

from __future__ import annotations

import pytest

from loadtest.cluster import Cluster
from loadtest.soak import soak
from tests.faults.conftest import rounds

pytestmark = pytest.mark.faults


async def test_a_short_soak_with_random_faults_keeps_every_invariant(healed: Cluster) -> None:
    before = sum(healed.faults.by_kind.values())
    # other tests wrote to this cluster with keys of their own: only ours are accounted for
    report = await soak(healed, rounds(20, 180), seed=3, shoppers=3, every_keyed_write=False)
    print(report.render())  # noqa: T201 - the counts, for whoever reads the test's output
    assert report.passed, report.render()
    assert sum(healed.faults.by_kind.values()) > before
    assert report.tally.requests > 100
    assert len(report.checks) == 8

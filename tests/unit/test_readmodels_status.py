"""What operators are shown about the projections."""

from __future__ import annotations

import re

from eventstore import HorizonBlocker
from readmodels.status import ProjectionStatus, Status, render


def _status(blockers: list[HorizonBlocker] | None = None) -> Status:
    return Status(
        head=120,
        unsequenced=3 if blockers else 0,
        blockers=blockers or [],
        projections=[
            ProjectionStatus("products", 2, 100, 20, 1.5, 900, 2, 90, None),
            ProjectionStatus("orders", 1, 120, 0, 0.0, 120, None, None, (2, 60)),
        ],
    )


def test_the_status_table_names_what_holds_the_sequencer_back() -> None:
    blocker = HorizonBlocker(4242, "psql", 95.0, "idle in transaction", "UPDATE stock")
    text = render(_status([blocker]))

    assert "feed head 120" in text
    assert re.search(r"products\s+2\s+100\s+20\s+1.5\s+g2 at 90", text)
    assert re.search(r"orders\s+1\s+120\s+0\s+0.0\s+unavailable\s+g2 at 60", text)
    assert "stalled" in text
    assert "pid 4242 (psql), open 95.0 s, idle in transaction: UPDATE stock" in text

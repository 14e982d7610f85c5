"""What operators and Prometheus are shown about the projections."""

from __future__ import annotations

import re

from eventstore import HorizonBlocker
from projector.status import ProjectionStatus, Status, metrics_text, render


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


def test_metrics_are_prometheus_text_with_lag_and_a_throughput_counter() -> None:
    text = metrics_text(_status())
    samples = dict(
        line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#")
    )

    assert samples['orders_projector_lag_events{projection="products"}'] == "20"
    assert samples['orders_projector_lag_seconds{projection="products"}'] == "1.5"
    assert samples['orders_projector_events_total{projection="orders"}'] == "120"
    assert samples['orders_projector_redis_lag_events{projection="products"}'] == "30"
    assert 'orders_projector_redis_lag_events{projection="orders"}' not in samples
    assert samples["orders_feed_head"] == "120"
    assert "# TYPE orders_projector_events_total counter" in text
    for name in {re.sub(r"\{.*", "", s) for s in samples}:
        assert f"# TYPE {name} " in text
        assert f"# HELP {name} " in text
    assert text.endswith("\n")


def test_the_status_table_names_what_holds_the_sequencer_back() -> None:
    blocker = HorizonBlocker(4242, "psql", 95.0, "idle in transaction", "UPDATE stock")
    text = render(_status([blocker]))

    assert "feed head 120" in text
    assert re.search(r"products\s+2\s+100\s+20\s+1.5\s+g2 at 90", text)
    assert re.search(r"orders\s+1\s+120\s+0\s+0.0\s+unavailable\s+g2 at 60", text)
    assert "stalled" in text
    assert "pid 4242 (psql), open 95.0 s, idle in transaction: UPDATE stock" in text

"""The traffic's round robin over instances and the checks that judge a soak, on made-up
tallies and stores' text: each can fail."""

from __future__ import annotations

import pytest

from loadtest.invariants import reads_own_writes
from loadtest.ledger import Tally
from loadtest.scan import found
from loadtest.traffic import RoundRobin


def test_round_robin_sends_each_request_to_the_next_instance() -> None:
    spread = RoundRobin(["http://127.0.0.1:1", "http://127.0.0.1:2"])
    assert [spread.next() for _ in range(5)] == [
        (0, "http://127.0.0.1:1"), (1, "http://127.0.0.1:2"), (0, "http://127.0.0.1:1"),
        (1, "http://127.0.0.1:2"), (0, "http://127.0.0.1:1"),
    ]  # fmt: skip
    assert RoundRobin("http://127.0.0.1:3").next() == (0, "http://127.0.0.1:3")


def test_round_robin_targets_127_0_0_1_only() -> None:
    with pytest.raises(ValueError, match=r"127\.0\.0\.1"):
        RoundRobin(["http://127.0.0.1:1", "http://example.com:2"])


def test_a_stale_read_of_ones_own_write_fails_the_check() -> None:
    tally = Tally()
    tally.own_reads.update(seen=5, crossed=5)
    assert reads_own_writes(tally).passed
    assert reads_own_writes(tally).name == "read your writes across instances"
    tally.own_reads["stale"] += 1
    tally.stale.append("/products/7 -> 404")
    check = reads_own_writes(tally)
    assert not check.passed
    assert "/products/7 -> 404" in check.detail


def test_no_own_write_read_back_proves_nothing_and_fails() -> None:
    tally = Tally()
    tally.own_reads["refused"] = 3
    assert not reads_own_writes(tally).passed


def test_found_names_each_value_where_it_is() -> None:
    chunks = {"public.clients_rm": "(1,nmabc,x)", "redis 0 doc:1": "doc:1 {}"}
    assert found({"nmabc", "zzz"}, chunks) == [("nmabc", "public.clients_rm", "(1,nmabc,x)")]

"""The read models' Redis keys: one hash slot per projection's generation, so the scripts and
pipelines that touch several of its keys are legal on Redis Cluster."""

from __future__ import annotations

import itertools

import pytest
from redis.crc import key_slot

from readmodels.keys import (
    TABLE_KEYS,
    applied_key,
    generation_pattern,
    index_entry,
    index_member,
    live_generation_key,
)
from readmodels.schema import PROJECTIONS, TABLES, Table


def _slot(key: str) -> int:
    return key_slot(key.encode())


def test_every_key_of_a_generation_shares_the_slot_of_its_applied_position() -> None:
    for projection in PROJECTIONS:
        for generation in (1, 2, 17):
            slot = _slot(applied_key(projection.name, generation))
            for table in projection.tables:
                prefix = table.redis_prefix(generation)
                keys = [f"{prefix}{k}" for k in TABLE_KEYS]
                assert {_slot(k) for k in keys} == {slot}, (projection.name, table.name)


def test_the_scan_pattern_of_a_generation_matches_its_keys_and_no_other_generations() -> None:
    projection = PROJECTIONS[0]
    pattern = generation_pattern(projection.name, 1)
    assert pattern.endswith("*")
    stem = pattern[:-1]
    assert projection.tables[0].redis_prefix(1).startswith(stem)
    assert applied_key(projection.name, 1).startswith(stem)
    assert not projection.tables[0].redis_prefix(11).startswith(stem)
    assert not PROJECTIONS[1].tables[0].redis_prefix(1).startswith(stem)


def test_projections_and_generations_hash_apart() -> None:
    """Different tags: a cluster can put them on different nodes (one slot for all would
    make a cluster one node)."""
    slots = {_slot(applied_key(p.name, g)) for p in PROJECTIONS for g in (1, 2)}
    assert len(slots) == 2 * len(PROJECTIONS)
    assert live_generation_key("products") == "rm:live:products"  # read alone: untagged


def test_an_index_is_one_range_of_its_tables_index_in_id_order() -> None:
    """Members sort by index name, then by id as a number (the ids are zero-padded), and no
    index's range takes in another's: `a=1` ends before `a=10` begins."""
    entries = [("a=1", 10), ("a=10", 2), ("a=1", 9), ("all", 2**63 - 1), ("a=1", 100), ("all", 0)]
    members = sorted(index_member(name, id_key) for name, id_key in entries)

    assert [index_entry(m) for m in members] == [
        ("a=1", 9), ("a=1", 10), ("a=1", 100), ("a=10", 2), ("all", 0), ("all", 2**63 - 1)
    ]  # fmt: skip
    in_a1 = [m for m in members if b"a=1\0" <= m < b"a=1\1"]
    assert [index_entry(m)[1] for m in in_a1] == [9, 10, 100]


def test_a_rows_index_names_spell_ids_as_digits_and_booleans_as_0_or_1() -> None:
    names = TABLES["products"].index_names_of((3, True))

    assert names == ["all", "category_id=3", "active=1", "category_id=3:active=1"]


@pytest.mark.parametrize("table", TABLES.values(), ids=lambda table: table.name)
def test_a_rows_index_names_are_its_documents(table: Table) -> None:
    fields = [name for name, _ in table.filters]
    for values in itertools.product([7, 0, True, False, None], repeat=len(fields)):
        assert table.index_names_of(values) == table.index_names(
            dict(zip(fields, values, strict=True))
        )

"""A rebuild's bulk load, without I/O: streams folded in stream order as of a feed position, rows
in COPY's text format, and how the memory budget is shared among loader processes."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pytest

from domain import codec
from domain.events import Event
from domain.product import ProductCreated, StockAdjusted
from eventstore import StreamEntry
from projector import loaders
from projector.bulk import Folder
from projector.changes import Row
from projector.errors import RebuildError
from projector.pg_sink import copy_text
from readmodels.schema import PROJECTIONS, TABLES

PRODUCTS = next(p for p in PROJECTIONS if p.name == "products")


def _entry(stream: str, version: int, at: int | None, event: Event) -> tuple[str, StreamEntry]:
    type_name, _, data = codec.encode(event)
    return stream, StreamEntry(version, at, type_name, data)


def _stocks(rows: dict[object, list[Row]]) -> list[tuple[int, int, int]]:
    """(id, stock, position) of the product rows."""
    return [
        (r.id_key, orjson.loads(r.doc or b"null")["stock"], r.position)
        for r in rows[TABLES["products"]]
    ]


def test_a_stream_read_across_chunks_is_folded_once_and_rendered_when_it_ends() -> None:
    folder = Folder(PRODUCTS, upto=100)
    first = folder.feed([
        _entry("product-1", 1, 1, ProductCreated(1, "Pen", Decimal("1.50"), 10, 1)),
        _entry("product-1", 2, 5, StockAdjusted(1, 20, 10)),
    ])  # fmt: skip
    second = folder.feed([
        _entry("product-1", 3, 9, StockAdjusted(1, 30, 20)),
        _entry("product-2", 1, 2, ProductCreated(2, "Ink", Decimal("3.00"), 7, 1)),
    ])  # fmt: skip
    last = folder.finish()

    assert _stocks(first) == []  # product-1 may go on in the next chunk
    assert _stocks(second) == [(1, 30, 9)]
    assert _stocks(last) == [(2, 7, 2)]


def test_a_stream_stands_at_the_highest_version_the_feed_shows_up_to_the_bound() -> None:
    folder = Folder(PRODUCTS, upto=10)
    rows = folder.feed([
        _entry("product-1", 1, 3, ProductCreated(1, "Pen", Decimal("1.50"), 10, 1)),
        _entry("product-1", 2, None, StockAdjusted(1, 20, 10)),  # committed, not sequenced yet
        _entry("product-1", 3, 8, StockAdjusted(1, 30, 20)),  # ...but a later one is: both count
        _entry("product-1", 4, 12, StockAdjusted(1, 40, 30)),  # past the bound: the runner's
        _entry("product-2", 1, 11, ProductCreated(2, "Ink", Decimal("3.00"), 7, 1)),
    ])  # fmt: skip
    rows[TABLES["products"]] += folder.finish()[TABLES["products"]]

    assert _stocks(rows) == [(1, 30, 8)]  # product-2 does not exist yet as of position 10


def test_versions_out_of_feed_order_stand_at_the_highest_position() -> None:
    folder = Folder(PRODUCTS, upto=10)
    folder.feed([
        _entry("product-1", 1, 1, ProductCreated(1, "Pen", Decimal("1.50"), 10, 1)),
        _entry("product-1", 2, 7, StockAdjusted(1, 20, 10)),
        _entry("product-1", 3, 6, StockAdjusted(1, 30, 20)),  # sequenced before version 2
    ])  # fmt: skip

    assert _stocks(folder.finish()) == [(1, 30, 7)]


def test_a_stream_with_a_missing_version_fails_the_load() -> None:
    folder = Folder(PRODUCTS, upto=10)
    with pytest.raises(RebuildError, match="reads version 3 where 2 was due"):
        folder.feed([
            _entry("product-1", 1, 1, ProductCreated(1, "Pen", Decimal("1.50"), 10, 1)),
            _entry("product-1", 3, 2, StockAdjusted(1, 20, 10)),
        ])  # fmt: skip


def test_rows_go_to_copy_as_text_with_backslashes_booleans_and_nulls_spelled_its_way() -> None:
    rows = [Row(7, b'{"name":"a\\\\b \\"c\\""}', 42, (3, True)), Row(8, b"{}", 43, (None, False))]

    text = copy_text(2, rows)

    assert text == (b'2\t7\t{"name":"a\\\\\\\\b \\\\"c\\\\""}\t42\t3\tt\n2\t8\t{}\t43\t\\N\tf\n')


@pytest.mark.parametrize("budget_mib", [256, 512, 1024, 4096])
def test_the_loaders_share_the_memory_budget(budget_mib: int) -> None:
    budget = budget_mib << 20
    plan = loaders.plan(budget, loaders=6)

    assert 1 <= plan.parallel <= 6
    assert loaders.MIN_CHUNK <= plan.chunk <= loaders.MAX_CHUNK
    held = plan.parallel * (loaders.PROCESS_BYTES + plan.chunk * loaders.EVENT_BYTES)
    assert held <= budget or plan.chunk == loaders.MIN_CHUNK  # the smallest chunk is the floor
    if budget_mib == 256:
        assert plan.parallel < 6  # too small for six at once: fewer run at a time

"""The migrations create what the catalogue describes: the read-model tables exactly as
`readmodels.schema` (the contract between projector and query API) derives them, and an id
sequence per entity; and the operators' commands over them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

import migrations
from domain.catalogue import ENTITIES
from orders.embedded import Endpoints
from projector import live
from projector.engine import open_engine
from readmodels.schema import PROJECTIONS, TABLES
from readmodels.status import read_status
from tests.keys import MASTER
from tests.projection import PROJECTOR_REDIS_DB, Scenario, with_redis_db, worker_env
from tests.shop import Shop


def _columns(conn: psycopg.Connection, table: str) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [(name, kind) for name, kind in rows]


def _indexes(conn: psycopg.Connection, table: str) -> set[tuple[str, ...]]:
    rows = conn.execute(
        "SELECT array_agg(a.attname ORDER BY k.n) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indrelid"
        " CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
        " WHERE c.relname = %s GROUP BY i.indexrelid",
        (table,),
    ).fetchall()
    return {tuple(columns) for (columns,) in rows}


def test_every_read_model_table_has_the_contracts_columns_and_indexes(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        for table in TABLES.values():
            filters = [(f, {"bigint": "bigint", "boolean": "boolean", "integer": "integer"}[t])
                       for f, t in table.filters]  # fmt: skip
            assert _columns(conn, table.pg_table) == [
                ("generation", "integer"), ("id_key", "bigint"), ("doc", "text"),
                ("position", "bigint"), *filters,
            ]  # fmt: skip
            shapes = {("generation", *shape, "id_key") for shape in table.shapes}
            assert _indexes(conn, table.pg_table) == {("generation", "id_key"), *shapes}
        names = conn.execute("SELECT name FROM projection_checkpoints ORDER BY name").fetchall()
        assert [n for (n,) in names] == sorted(p.name for p in PROJECTIONS)


def _orders(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "launch.cli", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_operators_see_status_and_rebuild_from_the_command_line(
    database_url: str, servers: Endpoints, shop: Shop, tmp_path: Path
) -> None:
    await Scenario(shop).round()
    env = worker_env(database_url, with_redis_db(servers.redis_url, PROJECTOR_REDIS_DB))

    before = _orders("projections", "status", env=env)
    rebuilt = _orders("projections", "rebuild", "products", "orders", env=env)
    after = _orders("projections", "status", env=env)
    unknown = _orders("projections", "rebuild", "nonsense", env=env)

    assert before.returncode == 0, before.stderr
    assert "products" in before.stdout
    assert "feed head" in before.stdout
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "products: generation 2 live" in rebuilt.stdout
    assert "orders: generation 2 live" in rebuilt.stdout
    assert "events/s" in rebuilt.stderr  # the progress bar
    lines = {line.split()[0]: line.split() for line in after.stdout.splitlines() if line.strip()}
    assert lines["products"][1] == "2"  # generation
    assert lines["products"][3] == "0"  # lag in events
    assert lines["categories"][1] == "1"
    assert unknown.returncode != 0
    assert "no projection named nonsense" in unknown.stderr


async def test_status_shows_lag_until_the_projector_has_caught_up(
    database_url: str, servers: Endpoints, shop: Shop
) -> None:
    engine = await open_engine(
        database_url, with_redis_db(servers.redis_url, PROJECTOR_REDIS_DB), master=MASTER
    )
    try:
        assert engine.redis is not None
        await engine.redis.flushdb()
        await Scenario(shop).round()
        await engine.store.sequence()
        behind = await read_status(engine.store, engine.redis)
        await live.follow(engine)
        caught_up = await read_status(engine.store, engine.redis)
    finally:
        await engine.close()

    orders_behind = next(p for p in behind.projections if p.name == "orders")
    orders_now = next(p for p in caught_up.projections if p.name == "orders")
    assert behind.head == caught_up.head > 0
    assert orders_behind.lag_events == behind.head
    assert orders_behind.lag_seconds > 0
    assert (orders_now.lag_events, orders_now.lag_seconds) == (0, 0.0)
    assert orders_now.redis_position == caught_up.head
    assert orders_now.events_applied == caught_up.head


def test_the_migrations_draw_every_entitys_ids_from_its_own_sequence(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT sequence_name FROM information_schema.sequences WHERE sequence_name LIKE 'id_%'"
        ).fetchall()
    assert {name for (name,) in rows} == {f"id_{e.sequence}" for e in ENTITIES}


def _generations(conn: psycopg.Connection) -> list[tuple[str, int, int]]:
    """(table holding the row, generation, id_key) of every category row."""
    return [
        (str(table), generation, id_key)
        for table, generation, id_key in conn.execute(
            "SELECT tableoid::regclass::text, generation, id_key FROM rm_categories ORDER BY 3"
        ).fetchall()
    ]


def test_the_rows_of_every_generation_move_into_partitions_of_their_own_and_back(
    database_url: str,
) -> None:
    migrations.downgrade(database_url, "0005")
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO rm_categories (generation, id_key, doc, position)"
            " VALUES (1, 1, '{}', 1), (3, 2, '{}', 2)"
        )
    migrations.upgrade(database_url)
    with psycopg.connect(database_url) as conn:
        partitioned = _generations(conn)
        empty = conn.execute("SELECT count(*) FROM rm_products_g1").fetchone()
    migrations.downgrade(database_url, "0005")
    with psycopg.connect(database_url) as conn:
        plain = _generations(conn)
    migrations.upgrade(database_url)

    assert partitioned == [("rm_categories_g1", 1, 1), ("rm_categories_g3", 3, 2)]
    assert empty == (0,)  # generation 1 always has a partition: the live runner writes there
    assert plain == [("rm_categories", 1, 1), ("rm_categories", 3, 2)]

"""Migration 0002 creates the read-model tables exactly as `projector.schema` (the contract with
the query API) describes them; and the operators' commands over them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from orders.embedded import Endpoints
from projector.schema import PROJECTIONS, TABLES
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
        [sys.executable, "-m", "orders.cli", *args],
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


async def test_metrics_show_lag_until_the_projector_has_caught_up(
    database_url: str, servers: Endpoints, shop: Shop
) -> None:
    from projector import live, status  # noqa: PLC0415
    from projector.engine import open_engine  # noqa: PLC0415

    engine = await open_engine(database_url, with_redis_db(servers.redis_url, PROJECTOR_REDIS_DB))
    try:
        assert engine.redis is not None
        await engine.redis.flushdb()
        await Scenario(shop).round()
        await engine.store.sequence()
        behind = await status.metrics(engine.store, engine.redis)
        await live.follow(engine)
        caught_up = await status.metrics(engine.store, engine.redis)
    finally:
        await engine.close()

    head = int(next(line.split()[1] for line in caught_up.splitlines()
                    if line.startswith("orders_feed_head ")))  # fmt: skip
    assert f'orders_projector_lag_events{{projection="orders"}} {head}' in behind
    assert 'orders_projector_lag_events{projection="orders"} 0' in caught_up
    assert 'orders_projector_redis_lag_events{projection="orders"} 0' in caught_up
    assert f'orders_projector_events_total{{projection="orders"}} {head}' in caught_up

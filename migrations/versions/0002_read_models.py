"""Read models: one table per resource, in generations, and the rebuild progress of projections.

Each `rm_<table>` holds the documents the query API serves, as their exact JSON text, with the
feed position they stand at and the columns its filters use. Every row belongs to a generation:
a rebuild fills the next generation beside the live one and switches `projection_checkpoints`
to it in one transaction, so reads never see a half-built table. The shapes below are a frozen
copy of `readmodels.schema` at this revision (a migration must not change when the code does);
a test checks that the migrated database matches the schema module.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table -> (filter columns with their types, index shapes)
READ_MODELS: dict[str, tuple[tuple[tuple[str, str], ...], tuple[tuple[str, ...], ...]]] = {
    "categories": ((), ()),
    "products": (
        (("category_id", "bigint"), ("active", "boolean")),
        (("category_id",), ("active",), ("category_id", "active")),
    ),
    "clients": ((), ()),
    "addresses": ((("client_id", "bigint"),), (("client_id",),)),
    "bills": ((("client_id", "bigint"),), (("client_id",),)),
    "orders": (
        (("client_id", "bigint"), ("status", "integer")),
        (("client_id",), ("status",), ("client_id", "status")),
    ),
    "order_details": (
        (("order_id", "bigint"), ("product_id", "bigint")),
        (("order_id",), ("product_id",), ("order_id", "product_id")),
    ),
    "reviews": ((("product_id", "bigint"),), (("product_id",),)),
}
PROJECTIONS = ("categories", "products", "clients", "bills", "orders", "reviews")

# The rebuild of a projection in progress: the generation it fills and how far it has applied
# the feed, moved in the same transaction as that generation's rows (so a rebuild resumes).
REBUILDS = """
CREATE TABLE projection_rebuilds (
    name       text PRIMARY KEY,
    generation integer NOT NULL,
    position   bigint NOT NULL DEFAULT 0 CHECK (position >= 0),
    feed_hash  bytea,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""

# feed_hash: the feed's hash at `position`, so that a feed which is behind the checkpoint or a
# different one (a restored or reset database) is refused instead of skipped.
# events_applied: feed positions applied since the start, a counter for throughput metrics.
CHECKPOINTS = """
ALTER TABLE projection_checkpoints
    ADD COLUMN feed_hash bytea,
    ADD COLUMN events_applied bigint NOT NULL DEFAULT 0;
"""


def _create(table: str) -> str:
    filters, shapes = READ_MODELS[table]
    columns = "".join(f"    {name} {kind},\n" for name, kind in filters)
    sql = (
        f"CREATE TABLE rm_{table} (\n"
        "    generation integer NOT NULL,\n"
        "    id_key bigint NOT NULL,\n"
        "    doc text NOT NULL,\n"
        "    position bigint NOT NULL,\n"
        f"{columns}"
        "    PRIMARY KEY (generation, id_key)\n"
        ");\n"
    )
    for shape in shapes:
        name = f"rm_{table}_by_{'_'.join(shape)}"
        sql += f"CREATE INDEX {name} ON rm_{table} (generation, {', '.join(shape)}, id_key);\n"
    return sql


def upgrade() -> None:
    for table in READ_MODELS:
        op.execute(_create(table))
    op.execute(REBUILDS)
    op.execute(CHECKPOINTS)
    values = ", ".join(f"('{name}')" for name in PROJECTIONS)
    op.execute(f"INSERT INTO projection_checkpoints (name) VALUES {values} ON CONFLICT DO NOTHING")  # noqa: S608 - fixed names above


def downgrade() -> None:
    op.execute(
        "ALTER TABLE projection_checkpoints DROP COLUMN feed_hash, DROP COLUMN events_applied"
    )
    op.execute("DROP TABLE projection_rebuilds")
    op.execute(f"DROP TABLE {', '.join(f'rm_{t}' for t in READ_MODELS)}")

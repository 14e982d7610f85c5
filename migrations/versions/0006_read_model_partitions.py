"""Read models in partitions, one per generation, so that a rebuild drops the generation it
replaced with one `DROP TABLE` (a catalogue change: no row is visited, whatever its size),
where a `DELETE ... WHERE generation = n` visited every row and left them all to vacuum.

Each `rm_<table>` becomes a table partitioned by list of `generation`, with the same columns,
primary key and shape indexes (copied from the table itself, so this migration holds no copy
of the read models' shapes); generation n lives in `rm_<table>_g<n>`, and the rows of every
generation held move into their partitions. A rebuild loads its generation into a plain table
of that name (COPY, no index to maintain row by row) and attaches it as a partition when it is
complete: the indexes are built then, one sort each. `projection_rebuilds.events_loaded`
counts the events a rebuild's bulk load has folded (its progress while its position cannot
move yet).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Every read-model table of kind `{kind}` ('r' plain, 'p' partitioned) is renamed aside with its
# indexes, made again like it `{shape}`, refilled and dropped. Partitioned, generation 1 (what
# a fresh database serves) always gets a partition: the live runner writes there before any
# rebuild.
REMAKE = """
DO $$
DECLARE t text; i text; g integer;
BEGIN
    FOR t IN SELECT relname FROM pg_class
             WHERE relkind = '{kind}' AND NOT relispartition AND relname ~ '^rm_[a-z_]+$'
               AND relnamespace = current_schema()::regnamespace
    LOOP
        EXECUTE format('ALTER TABLE %I RENAME TO %I', t, t || '_old');
        FOR i IN SELECT c.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
                 WHERE x.indrelid = (t || '_old')::regclass
        LOOP
            EXECUTE format('ALTER INDEX %I RENAME TO %I', i, i || '_old');
        END LOOP;
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING ALL) {shape}', t, t || '_old');
        IF '{shape}' <> '' THEN
            FOR g IN EXECUTE format('SELECT generation FROM %I UNION SELECT 1', t || '_old')
            LOOP
                EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%s)',
                               t || '_g' || g, t, g);
            END LOOP;
        END IF;
        EXECUTE format('INSERT INTO %I SELECT * FROM %I', t, t || '_old');
        EXECUTE format('DROP TABLE %I CASCADE', t || '_old');
    END LOOP;
END $$;
"""


def upgrade() -> None:
    op.execute(REMAKE.format(kind="r", shape="PARTITION BY LIST (generation)"))
    op.execute("ALTER TABLE projection_rebuilds ADD COLUMN events_loaded bigint NOT NULL DEFAULT 0")


def downgrade() -> None:
    op.execute("ALTER TABLE projection_rebuilds DROP COLUMN events_loaded")
    op.execute(REMAKE.format(kind="p", shape=""))

"""Personal data: the keys it is sealed with, and which streams an idempotent response is of.

`data_keys` holds one data key per person (subject: the client's stream) and generation, wrapped
by the master key (ORDERS_MASTER_KEY, named by `master_id`). Destroying a key (an erasure) nulls
its `wrapped` bytes and stamps `destroyed_at`: the row stays, so a destroyed generation is never
handed out again and every process can tell it is gone. `idempotency_keys.streams` names the
streams an idempotent response was written for, so that an erasure finds the stored responses
that hold the person's values.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE data_keys (
            subject      text NOT NULL,
            generation   integer NOT NULL CHECK (generation >= 1),
            wrapped      bytea,
            master_id    text NOT NULL,
            created_at   timestamptz NOT NULL DEFAULT now(),
            destroyed_at timestamptz,
            PRIMARY KEY (subject, generation),
            CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
        );
        ALTER TABLE idempotency_keys ADD COLUMN streams text[] NOT NULL DEFAULT '{}';
        CREATE INDEX idempotency_keys_streams ON idempotency_keys USING gin (streams);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX idempotency_keys_streams;
        ALTER TABLE idempotency_keys DROP COLUMN streams;
        DROP TABLE data_keys;
        """
    )

"""Snapshots: a stream's folded state at a version, so that loading it reads only the tail.

One row per stream and fingerprint. The fingerprint names the code that folded the state (the
decider, the state's shape, the event schemas and their upcasters): a snapshot taken by other
code is never read, only replaced. Unlike events, snapshots are derived data: they are
overwritten (only by a newer version) and may be deleted at any time (an erasure deletes a
person's), and every reader falls back to the events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE snapshots (
            stream_id   text NOT NULL,
            fingerprint text NOT NULL,
            version     bigint NOT NULL CHECK (version >= 1),
            state       jsonb NOT NULL,
            taken_at    timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (stream_id, fingerprint)
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE snapshots")

"""Streams by type: an index on (stream_type, stream_id), so that cutting a stream type into a
rebuild's parts (`EventStore.stream_ranges`) reads that type's streams in id order instead of
every stream of every type, then sorting them.

Its cost on writes: one index entry per new stream. Appends to an existing stream only move
its version, which no index holds, so they stay heap-only updates.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE INDEX streams_by_type ON streams (stream_type, stream_id)")


def downgrade() -> None:
    op.execute("DROP INDEX streams_by_type")

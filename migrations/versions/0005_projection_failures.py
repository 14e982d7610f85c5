"""Projection failures: the event a projection cannot apply, next to its checkpoint.

When applying the event at feed position N to a projection raises, the projection stops at
N - 1 (its checkpoint, or its rebuild's progress) and one row here says why: the event's id and
type, the error's last line (redacted), how many times it was tried and when it is tried next.
The other projections go on. Operators read it (`orders projections status`, the query API's
admin status, health and metrics) through `readmodels.status`.

The row goes as soon as the projection passes N: a trigger on the checkpoint and rebuild rows
deletes it in the transaction that moves them past N (or to another generation), so no writer
has to remember to, and a row here always names an event its projection has not applied.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE projection_failures (
            name            text NOT NULL,
            slot            text NOT NULL CHECK (slot IN ('live', 'rebuild')),
            generation      integer NOT NULL,
            position        bigint NOT NULL CHECK (position >= 1),
            event_id        uuid NOT NULL,
            event_type      text NOT NULL,
            error           text NOT NULL,
            attempts        integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
            first_failed_at timestamptz NOT NULL DEFAULT now(),
            failed_at       timestamptz NOT NULL DEFAULT now(),
            retry_at        timestamptz NOT NULL,
            PRIMARY KEY (name, slot)
        );

        -- the live checkpoints move together, one statement per batch: one DELETE for all
        CREATE FUNCTION projection_failures_passed_live() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM projection_failures f USING moved m
            WHERE f.slot = 'live' AND f.name = m.name
              AND (f.position <= m.position OR f.generation <> m.generation);
            RETURN NULL;
        END $$;
        CREATE TRIGGER projection_checkpoints_failure_passed
            AFTER UPDATE ON projection_checkpoints REFERENCING NEW TABLE AS moved
            FOR EACH STATEMENT EXECUTE FUNCTION projection_failures_passed_live();

        -- a rebuild moves once per large batch, starts (insert or reset) and ends (delete)
        CREATE FUNCTION projection_failures_passed_rebuild() RETURNS trigger LANGUAGE plpgsql
        AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM projection_failures WHERE name = OLD.name AND slot = 'rebuild';
            ELSE
                DELETE FROM projection_failures
                WHERE name = NEW.name AND slot = 'rebuild'
                  AND (position <= NEW.position OR generation <> NEW.generation);
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER projection_rebuilds_failure_passed
            AFTER INSERT OR UPDATE OR DELETE ON projection_rebuilds
            FOR EACH ROW EXECUTE FUNCTION projection_failures_passed_rebuild();
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TRIGGER projection_checkpoints_failure_passed ON projection_checkpoints;"
        " DROP TRIGGER projection_rebuilds_failure_passed ON projection_rebuilds;"
        " DROP FUNCTION projection_failures_passed_live(), projection_failures_passed_rebuild();"
        " DROP TABLE projection_failures"
    )

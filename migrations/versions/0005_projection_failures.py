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

        CREATE FUNCTION projection_failure_passed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM projection_failures WHERE name = OLD.name AND slot = TG_ARGV[0];
                RETURN NULL;
            END IF;
            DELETE FROM projection_failures
            WHERE name = NEW.name AND slot = TG_ARGV[0]
              AND (position <= NEW.position OR generation <> NEW.generation);
            RETURN NULL;
        END $$;

        CREATE TRIGGER projection_checkpoints_failure_passed
            AFTER UPDATE OF position, generation ON projection_checkpoints
            FOR EACH ROW EXECUTE FUNCTION projection_failure_passed('live');
        CREATE TRIGGER projection_rebuilds_failure_passed
            AFTER INSERT OR UPDATE OF position, generation OR DELETE ON projection_rebuilds
            FOR EACH ROW EXECUTE FUNCTION projection_failure_passed('rebuild');
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE projection_failures;"
        " DROP TRIGGER projection_checkpoints_failure_passed ON projection_checkpoints;"
        " DROP TRIGGER projection_rebuilds_failure_passed ON projection_rebuilds;"
        " DROP FUNCTION projection_failure_passed()"
    )

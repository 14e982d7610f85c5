"""The event store: events, streams, the insert-only feed, idempotency, unique claims, checkpoints.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID_SEQUENCES = (
    "category",
    "product",
    "client",
    "address",
    "bill",
    "order",
    "order_detail",
    "review",
)

TABLES = """
CREATE TABLE streams (
    stream_id   text PRIMARY KEY,
    stream_type text NOT NULL,
    version     bigint NOT NULL CHECK (version >= 0)
);

CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the writing transaction: the sequencer orders by it and only looks below the xmin horizon
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    stream_id       text NOT NULL,
    stream_type     text NOT NULL,
    version         bigint NOT NULL CHECK (version >= 1),
    event_id        uuid NOT NULL UNIQUE,
    event_type      text NOT NULL,
    schema_version  integer NOT NULL CHECK (schema_version >= 1),
    data            jsonb NOT NULL,
    metadata        jsonb NOT NULL DEFAULT '{}',
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, version)
);
CREATE INDEX events_commit_order ON events (transaction_id, global_position);

CREATE TABLE feed (
    feed_position   bigint PRIMARY KEY CHECK (feed_position >= 1),
    global_position bigint NOT NULL UNIQUE REFERENCES events (global_position),
    transaction_id  xid8 NOT NULL,
    hash            bytea NOT NULL CHECK (length(hash) = 32),
    sequenced_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_keys (
    key         text PRIMARY KEY,
    fingerprint bytea NOT NULL,
    response    bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE unique_claims (
    scope        text NOT NULL,
    value        text NOT NULL,
    owner_stream text NOT NULL,
    claimed_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, value)
);
CREATE INDEX unique_claims_owner ON unique_claims (owner_stream);

CREATE TABLE projection_checkpoints (
    name       text PRIMARY KEY,
    position   bigint NOT NULL DEFAULT 0 CHECK (position >= 0),
    generation integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""

# UPDATE, DELETE and TRUNCATE are refused by the database itself, whoever connects.
APPEND_ONLY = """
CREATE FUNCTION es_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'ES003',
              HINT = 'history changes only by appending new events';
END $$;
"""
APPEND_ONLY_TRIGGERS = """
CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION es_refuse_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION es_refuse_change();
"""

# The whole append in one call (one round trip, atomic even in autocommit). Its argument is one
# JSON document, {"streams": [{id, expected, n}], "events": [{stream, id, type, sv, data, meta}],
# "claims": [{scope, value, owner}], "releases": [...]}: a single parameter keeps the client's
# encoding cost to one orjson call instead of fifteen array adaptations.
# Streams are locked by a single upsert in sorted order, which also moves their versions forward;
# a stale expectation then raises ES001 and rolls everything back. Appends to disjoint streams
# never wait on each other: there is no table or global lock. Claims come after the streams, in
# sorted order too, so the lock order is global and no two appends can deadlock.
# Expected versions: -1 = any, 0 = no stream yet, n >= 1 = exactly n.
APPEND_FUNCTION = """
CREATE FUNCTION es_append(p jsonb)
RETURNS TABLE (stream_id text, version bigint, global_position bigint)
LANGUAGE plpgsql AS $$
DECLARE
    v_ids text[];
    v_old bigint[];
    v_bad record;
    v_stale text;
    v_claimed integer;
BEGIN
    WITH wanted AS (
        SELECT * FROM jsonb_to_recordset(p->'streams') AS u(id text, expected bigint, n integer)
    ), moved AS (
        INSERT INTO streams AS s (stream_id, stream_type, version)
        SELECT w.id, split_part(w.id, '-', 1), w.n FROM wanted w ORDER BY w.id
        ON CONFLICT ON CONSTRAINT streams_pkey
            DO UPDATE SET version = s.version + excluded.version
        RETURNING s.stream_id, s.version
    )
    SELECT array_agg(m.stream_id), array_agg(m.version - w.n),
           (array_agg(w.id ORDER BY w.id)
               FILTER (WHERE w.expected <> -1 AND w.expected <> m.version - w.n))[1]
    INTO v_ids, v_old, v_stale
    FROM moved m JOIN wanted w ON w.id = m.stream_id;

    IF v_stale IS NOT NULL THEN
        SELECT o.id, o.old, w.expected INTO v_bad
        FROM unnest(v_ids, v_old) AS o(id, old)
        JOIN jsonb_to_recordset(p->'streams') AS w(id text, expected bigint) ON w.id = o.id
        WHERE w.expected <> -1 AND w.expected <> o.old ORDER BY o.id LIMIT 1;
        RAISE EXCEPTION 'stream % is at version %, expected %', v_bad.id, v_bad.old, v_bad.expected
            USING ERRCODE = 'ES001',
                  DETAIL = json_build_object('stream_id', v_bad.id, 'actual', v_bad.old,
                                             'expected', v_bad.expected)::text;
    END IF;

    IF jsonb_array_length(p->'releases') > 0 THEN
        DELETE FROM unique_claims c
        USING jsonb_to_recordset(p->'releases') AS r(scope text, value text, owner text)
        WHERE c.scope = r.scope AND c.value = r.value AND c.owner_stream = r.owner;
    END IF;

    IF jsonb_array_length(p->'claims') > 0 THEN
        WITH taken AS (
            INSERT INTO unique_claims AS c (scope, value, owner_stream)
            SELECT w.scope, w.value, w.owner
            FROM jsonb_to_recordset(p->'claims') AS w(scope text, value text, owner text)
            ORDER BY 1, 2
            ON CONFLICT (scope, value) DO UPDATE SET owner_stream = excluded.owner_stream
                WHERE c.owner_stream = excluded.owner_stream
            RETURNING 1
        ) SELECT count(*) INTO v_claimed FROM taken;
        IF v_claimed < jsonb_array_length(p->'claims') THEN
            SELECT c.scope, c.value, c.owner_stream INTO v_bad
            FROM unique_claims c
            JOIN jsonb_to_recordset(p->'claims') AS w(scope text, value text, owner text)
              ON c.scope = w.scope AND c.value = w.value AND c.owner_stream <> w.owner
            ORDER BY 1, 2 LIMIT 1;
            RAISE EXCEPTION '% % is already taken', v_bad.scope, v_bad.value
                USING ERRCODE = 'ES002',
                      DETAIL = json_build_object('scope', v_bad.scope, 'value', v_bad.value,
                                                 'owner', v_bad.owner_stream)::text;
        END IF;
    END IF;

    RETURN QUERY
    INSERT INTO events AS ev (stream_id, stream_type, version, event_id, event_type,
                              schema_version, data, metadata)
    SELECT e.stream, split_part(e.stream, '-', 1),
           o.old + row_number() OVER (PARTITION BY e.stream ORDER BY e.ord),
           e.id, e.type, e.sv, e.data, e.meta
    FROM ROWS FROM (jsonb_to_recordset(p->'events')
             AS (stream text, id uuid, type text, sv integer, data jsonb, meta jsonb))
         WITH ORDINALITY AS e(stream, id, type, sv, data, meta, ord)
    JOIN unnest(v_ids, v_old) AS o(sid, old) ON o.sid = e.stream
    ORDER BY e.ord
    RETURNING ev.stream_id, ev.version, ev.global_position;
END $$;
"""


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(APPEND_ONLY)
    for table in ("events", "feed"):
        op.execute(APPEND_ONLY_TRIGGERS.format(table=table))
    op.execute(APPEND_FUNCTION)
    for kind in ID_SEQUENCES:
        op.execute(f"CREATE SEQUENCE id_{kind} AS bigint")


def downgrade() -> None:
    for kind in ID_SEQUENCES:
        op.execute(f"DROP SEQUENCE id_{kind}")
    op.execute("DROP FUNCTION es_append")
    op.execute(
        "DROP TABLE projection_checkpoints, unique_claims, idempotency_keys, feed, events, streams"
    )
    op.execute("DROP FUNCTION es_refuse_change")

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

# The rules on the append path's version columns are domains, not CHECK constraints: a table's
# CHECK constraints are parsed again from their stored text by every statement that writes to it
# (in an append that cost as much as the four index insertions), a domain's once per connection.
DOMAINS = """
CREATE DOMAIN es_stream_version AS bigint CHECK (VALUE >= 0);
CREATE DOMAIN es_event_version AS bigint CHECK (VALUE >= 1);
CREATE DOMAIN es_schema_version AS integer CHECK (VALUE >= 1);
"""

TABLES = """
CREATE TABLE streams (
    stream_id   text PRIMARY KEY,
    stream_type text NOT NULL,
    version     es_stream_version NOT NULL
);

CREATE TABLE events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the writing transaction: the sequencer orders by it and only looks below the xmin horizon
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    stream_id       text NOT NULL,
    stream_type     text NOT NULL,
    version         es_event_version NOT NULL,
    event_id        uuid NOT NULL UNIQUE,
    event_type      text NOT NULL,
    schema_version  es_schema_version NOT NULL,
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
# JSON document, {"streams": [{id, expected, events: [{id, type, sv, data, meta}]}],
# "claims": [{scope, value, owner}], "releases": [...]} (claims and releases may be left out): a
# single parameter keeps the client's encoding cost to one orjson call.
# Streams are locked one by one in sorted order, each by a one-row upsert that also moves its
# version forward; a stale expectation raises ES001 there and rolls everything back. Appends to
# disjoint streams never wait on each other: there is no table or global lock. Claims come after
# the streams, in sorted order too, so the lock order is global and no two appends can deadlock.
# Then each stream's events are inserted, streams in the order given, versions counted from the
# stream's old version, so global positions follow the order given.
# Expected versions: -1 = any, 0 = no stream yet, n >= 1 = exactly n.
# Why it is shaped like this: an append writes little (a row in `streams`, a row per event), so
# starting up statements and expressions costs more than the writes. Every statement has the
# fewest plan nodes that do the job (no CTE, join, aggregate, window or sort; the sort only for
# several streams), and the common case, one stream and no claims, skips the loops: plpgsql
# prepares every expression again in each transaction, and the loops' bookkeeping was 8% of the
# function's instructions.
APPEND_FUNCTION = """
CREATE TYPE es_appended AS (stream_id text, version bigint, global_position bigint);

CREATE FUNCTION es_refuse_stale(p_stream_id text, p_actual bigint, p_expected bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stream % is at version %, expected %', p_stream_id, p_actual, p_expected
        USING ERRCODE = 'ES001',
              DETAIL = json_build_object('stream_id', p_stream_id, 'actual', p_actual,
                                         'expected', p_expected)::text;
END $$;

-- SETOF a named type: its row descriptor comes from the type cache, not rebuilt on every call.
CREATE FUNCTION es_append(p jsonb) RETURNS SETOF es_appended LANGUAGE plpgsql AS $$
DECLARE
    v_streams jsonb;
    v_count integer;
    v_order integer[];           -- indexes into v_streams, in lock order
    v_olds bigint[];             -- each stream's version before the append, by index
    v_i integer;
    v_stream jsonb;
    v_id text;
    v_n bigint;
    v_expected bigint;
    v_old bigint;
    v_bad record;
    v_claimed integer;
BEGIN
    IF jsonb_array_length(p->'streams') = 1 AND NOT p ?| '{claims,releases}' THEN
        -- the statements of both loops below, for their one stream
        v_stream := p->'streams'->0;
        v_id := v_stream->>'id';
        v_n := jsonb_array_length(v_stream->'events');
        INSERT INTO streams AS s (stream_id, stream_type, version)
        VALUES (v_id, split_part(v_id, '-', 1), v_n)
        ON CONFLICT ON CONSTRAINT streams_pkey DO UPDATE SET version = s.version + excluded.version
        RETURNING s.version - v_n INTO v_old;
        IF (v_stream->>'expected')::bigint NOT IN (-1, v_old) THEN
            PERFORM es_refuse_stale(v_id, v_old, (v_stream->>'expected')::bigint);
        END IF;
        RETURN QUERY
        INSERT INTO events AS ev (stream_id, stream_type, version, event_id, event_type,
                                  schema_version, data, metadata)
        SELECT v_id, split_part(v_id, '-', 1), v_old + e.ord, e.id, e.type, e.sv, e.data, e.meta
        FROM ROWS FROM (jsonb_to_recordset(v_stream->'events')
                 AS (id uuid, type text, sv integer, data jsonb, meta jsonb))
             WITH ORDINALITY AS e(id, type, sv, data, meta, ord)
        RETURNING ev.stream_id, ev.version::bigint, ev.global_position;
        RETURN;
    END IF;

    v_streams := p->'streams';
    v_count := jsonb_array_length(v_streams);
    IF v_count = 1 THEN
        v_order := '{0}';
    ELSE
        v_order := ARRAY(SELECT s.i - 1
                         FROM jsonb_array_elements(v_streams) WITH ORDINALITY AS s(doc, i)
                         ORDER BY s.doc->>'id');
    END IF;
    FOREACH v_i IN ARRAY v_order LOOP
        v_stream := v_streams->v_i;
        v_id := v_stream->>'id';
        v_n := jsonb_array_length(v_stream->'events');
        v_expected := (v_stream->>'expected')::bigint;
        INSERT INTO streams AS s (stream_id, stream_type, version)
        VALUES (v_id, split_part(v_id, '-', 1), v_n)
        ON CONFLICT ON CONSTRAINT streams_pkey DO UPDATE SET version = s.version + excluded.version
        RETURNING s.version - v_n INTO v_old;
        IF v_expected <> -1 AND v_expected <> v_old THEN
            PERFORM es_refuse_stale(v_id, v_old, v_expected);
        END IF;
        v_olds[v_i] := v_old;
    END LOOP;

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

    FOR v_i IN 0 .. v_count - 1 LOOP
        v_stream := v_streams->v_i;
        v_id := v_stream->>'id';
        v_old := v_olds[v_i];
        RETURN QUERY
        INSERT INTO events AS ev (stream_id, stream_type, version, event_id, event_type,
                                  schema_version, data, metadata)
        SELECT v_id, split_part(v_id, '-', 1), v_old + e.ord, e.id, e.type, e.sv, e.data, e.meta
        FROM ROWS FROM (jsonb_to_recordset(v_stream->'events')
                 AS (id uuid, type text, sv integer, data jsonb, meta jsonb))
             WITH ORDINALITY AS e(id, type, sv, data, meta, ord)
        RETURNING ev.stream_id, ev.version::bigint, ev.global_position;
    END LOOP;
END $$;
"""


def upgrade() -> None:
    op.execute(DOMAINS)
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
    # IF EXISTS: a dev database made by this migration's first version has none of them
    op.execute("DROP FUNCTION es_append")
    op.execute("DROP FUNCTION IF EXISTS es_refuse_stale")
    op.execute("DROP TYPE IF EXISTS es_appended")
    op.execute(
        "DROP TABLE projection_checkpoints, unique_claims, idempotency_keys, feed, events, streams"
    )
    op.execute("DROP FUNCTION es_refuse_change")
    op.execute("DROP DOMAIN IF EXISTS es_stream_version, es_event_version, es_schema_version")

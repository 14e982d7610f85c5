"""The query API: the original API's reads, served from the projections, and the auditors' view.

    app.py              create_app(): the lifespan (pool, Redis), middleware, routes, health
    resources.py        the eight resources: table, document model, list filters
    hotpath.py          plain GET one / GET list answered before FastAPI's router
    routes.py           the same reads as FastAPI routes (validation, tokens, OpenAPI)
    responses.py        a read to a response: bytes as stored, ETag / 304, X-Read-Source
    slashes.py          a trailing slash dropped before routing (no redirect)
    readmodels.py       Redis first, PostgreSQL fallback; read-your-writes with a token
    redis_source.py     the Redis read models: MGET of a document, a script for a page
    batching.py         the reads of one event-loop turn sent to Redis in one round trip
    postgres_source.py  the same answers from the PostgreSQL read models
    reads.py            Read (bytes, source, position) and Page
    audit.py            history, ?as_of=, the global feed, hash-chain verification
    history.py          an entity's events and its replayed state, from the event store
    admin.py            the operators' endpoints: projection status, rebuilds
    rebuilds.py         rebuilds queued for the projector's RQ workers, read back by id
    lag.py              each projection's lag, for /health_check and the /metrics gauges
    errors.py           the refusals and their HTTP mapping (listed there)

`/metrics` (request latency by route template, projection lag) is `orders.metrics`'s.

`orders query-api` serves `launch.serve:query_app`, which builds the app with `create_app`.
"""

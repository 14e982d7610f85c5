"""The projector: builds the read models the query API serves, in PostgreSQL and Redis, from the
event store's feed, exactly once, and rebuilds them without downtime.

    schema        the contract with the query API: tables, filters, index shapes, key names
    read_models   which documents (`domain.documents`) each table holds
    changes       the pure step: a stream's events -> its new state -> the changed documents
    decoding      events from their stored JSON, fast (agrees with `domain.codec`)
    feed          reading the feed by stream type, its head and hashes
    states        folded streams kept between batches; streams whose versions come out of order
    pg_sink       rows of a generation, in the checkpoint's transaction
    redis_sink    documents, positions and index sets, never moved back
    checkpoints   where each projection stands; the restore guard
    locks         one runner per projection
    runner        the one runner: batches, both sinks, overlapping reads, folds and writes
    poison        finding the event a projection cannot apply (the others go on)
    failures      what is recorded about it, next to the checkpoint; the retries' backoff
    live          catching the live generations up (wake-ups and sweeps); Redis reloads
    rebuild       a new generation beside the live one, then the switch
    status        checkpoints, lag and stalls for operators; Prometheus text
    jobs, worker  the RQ jobs and `orders projector`; commands: the CLI's entry points

Errors: the tree is in `projector.errors` (FeedBehindCheckpointError is the restore guard's).
"""

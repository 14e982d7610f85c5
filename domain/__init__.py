"""The pure domain of the order platform: commands, events, state and decisions.

Nothing here does I/O, reads a clock or makes an id: every id and timestamp arrives on a
command from the edge.

    category, product, client, bill, order, review   one decider per aggregate (its commands,
                                                      events, state, `decide`, `evolve`)
    decisions    the decisions that span streams, and the one entry point for every command
    claims       unique values and locators, as claims the event store enforces
    codec        events to JSON-safe dicts and back; `upcasters` for old schemas
    documents    the flat JSON documents the REST API serves
    errors       every error the domain raises
    decider, streams, patch, validation, enums, events, aggregates   the shared pieces
"""

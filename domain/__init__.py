"""The pure domain of the order platform: commands, events, state and decisions.

Nothing here does I/O, reads a clock or makes an id: every id and timestamp arrives on a
command from the edge.

    category, product, client, bill, order, review   one package per aggregate: its commands and
                        events (`_messages`), state and decider (`_decider`), the decisions of
                        its commands with their specs (`_decisions`), and its catalogue entry
                        (`_entity`: document, request bodies, filters, claims)
    catalogue           every aggregate, one line each, and the lookups the services use
    entity, decision    the shapes of a catalogue entry and of a command's spec
    claims              unique values and locators, as claims the event store enforces
    codec               events to JSON-safe dicts and back; `upcasters` for old schemas
    errors              every error the domain raises
    decider, streams, patch, validation, bodies, enums, events   the shared pieces
"""

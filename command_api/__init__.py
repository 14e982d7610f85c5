"""The command API: every write of the original API, turned into events.

HTTP → command → load the streams it reads → `decide` → one atomic append with each stream's
expected version; retried on version conflicts, idempotent under `Idempotency-Key`.
"""

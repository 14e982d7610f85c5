"""Locust scenarios and the benchmark harness (`orders bench`)."""

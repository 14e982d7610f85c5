"""The packages' edges show the architecture: imports run one way, through the layers DESIGN.md
draws, and no service reads the event store's tables around its API."""

import re

import pytest

from tests.architecture import PACKAGES, graph, modules

# Each package and the packages it may import; everything it imports must be listed here.
LAYERS: dict[str, set[str]] = {
    "domain": set(),
    "eventstore": set(),  # the store knows nothing of the domain: upcasting is passed in
    "orders": {"domain", "eventstore"},  # the shared library: settings, web layer, servers
    "readmodels": {"domain", "eventstore"},  # the read models' shape and status, shared
    "command_api": {"domain", "eventstore", "orders"},
    "projector": {"domain", "eventstore", "orders", "readmodels"},
    "query_api": {"domain", "eventstore", "orders", "readmodels"},
    "migrations": set(),
    "launch": {
        "domain",
        "eventstore",
        "orders",
        "command_api",
        "projector",
        "query_api",
        "migrations",
    },
    "loadtest": {
        "domain",
        "eventstore",
        "orders",
        "readmodels",
        "projector",
        "query_api",  # `orders bench cluster` drives its Redis source in process, as the projector
        "launch",
        "migrations",
    },
}

# The event store's own tables: only `eventstore/` (and the migrations that create them) name
# them in SQL.
STORE_TABLES = re.compile(
    r"\b(FROM|JOIN|INTO|UPDATE)\s+(events|feed|streams|unique_claims|idempotency_keys)\b"
)


def test_every_package_is_in_a_layer() -> None:
    assert set(LAYERS) == set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    assert graph()[package] <= LAYERS[package]


@pytest.mark.parametrize("package", set(PACKAGES) - {"eventstore", "migrations", "loadtest"})
def test_only_the_event_store_reads_its_tables(package: str) -> None:
    for path in modules(package):
        assert not STORE_TABLES.search(path.read_text()), path


@pytest.mark.parametrize("package", [*PACKAGES, "tests"])
def test_every_function_local_import_says_why(package: str) -> None:
    for path in modules(package):
        for line in path.read_text().splitlines():
            code = line.strip()
            if code.startswith(("import ", "from ")) and re.search(r"noqa: PLC0415(?! - )", code):
                pytest.fail(f"{path}: {code}")

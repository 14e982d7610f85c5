"""The import graph between the project's top-level packages, read from the source (every
import, function-local ones included). `python -m tests.architecture` prints it; the layering
test holds it to the layers DESIGN.md draws."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "domain", "eventstore", "readmodels", "orders", "command_api", "query_api", "projector",
    "launch", "migrations", "loadtest",
)  # fmt: skip


def modules(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """The top-level names a module imports (absolute imports: the project uses no others)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def graph() -> dict[str, set[str]]:
    """package -> the other packages of the project it imports."""
    return {
        package: {
            other
            for path in modules(package)
            for other in imported(path)
            if other in PACKAGES and other != package
        }
        for package in PACKAGES
    }


if __name__ == "__main__":
    for package, uses in graph().items():
        print(f"{package:12} -> {', '.join(sorted(uses)) or '-'}")  # noqa: T201

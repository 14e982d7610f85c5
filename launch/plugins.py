"""Subcommands other packages add to `orders`: each is an `orders.commands` entry point naming
a `Command`. (Its own module, not `launch.cli`: run as `python -m launch.cli`, the CLI is
`__main__`, and a plugin importing `launch.cli` would get a second copy of its classes.)"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from orders.settings import Settings

GROUP = "orders.commands"


@dataclass(frozen=True, slots=True)
class Command:
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Settings], int]


def plugins() -> dict[str, EntryPoint]:
    """The added subcommands by name, none of them imported yet."""
    return {entry.name: entry for entry in entry_points(group=GROUP)}


def load(entry: EntryPoint) -> Command:
    try:
        command = entry.load()
    except ImportError as e:  # a production install leaves the development tools out
        raise SystemExit(f"orders {entry.name}: not installed here ({e})") from e
    if not isinstance(command, Command):
        raise SystemExit(f"orders {entry.name}: {entry.value} is not an orders command")
    return command

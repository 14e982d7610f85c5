"""The secrets of a development data folder: the audit and admin tokens, the checkpoints'
signing key and the master key of personal data, each the configured one, else made once for
the folder and kept in it (`tokens.env`, mode 600). `orders up` passes them to its services;
every other `orders` command reads the ones kept, so that on a developer's machine they all
work against the same folder without anything to set. In production all come from the
environment, and nothing is made."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from orders.settings import Settings
from orders.signed_checkpoints.signing import new_signing_key
from orders.vault import MasterKey

KEPT = "tokens.env"


def _new_token() -> str:
    return secrets.token_urlsafe(24)


def _made(settings: Settings) -> list[tuple[str, SecretStr | None, Callable[[], str], bool]]:
    """(name, configured value, how to make one, whether to print it when made)."""
    return [
        ("ORDERS_AUDIT_TOKEN", settings.audit_token, _new_token, True),
        ("ORDERS_ADMIN_TOKEN", settings.admin_token, _new_token, True),
        # keys are never printed: they have no business on a terminal
        ("ORDERS_CHECKPOINT_KEY", settings.checkpoint_key, new_signing_key, False),
        ("ORDERS_MASTER_KEY", settings.master_key, MasterKey.generate, False),
    ]


def kept(data_dir: Path) -> dict[str, str]:
    path = data_dir.resolve() / KEPT
    lines = path.read_text().split() if path.exists() else []
    return dict(line.split("=", 1) for line in lines)


def development_secrets(settings: Settings) -> dict[str, str]:
    """Every secret the services need: configured, kept, or made now (and kept)."""
    path = settings.data_dir.resolve() / KEPT
    held = kept(settings.data_dir)
    chosen = {}
    for name, configured, make, shown in _made(settings):
        if configured is not None:
            chosen[name] = configured.get_secret_value()
        elif name in held:
            chosen[name] = held[name]
        else:
            chosen[name] = held[name] = make()
            said = f"={chosen[name]}" if shown else ""
            print(f"generated {name}{said} (kept in {path})", file=sys.stderr)  # noqa: T201
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in held.items()))
    path.chmod(0o600)
    return chosen


def use_kept(settings: Settings) -> Settings:
    """The settings, with the folder's kept secrets for whatever the environment leaves unset."""
    missing = {k: v for k, v in kept(settings.data_dir).items() if k not in os.environ}
    if not missing:
        return settings
    os.environ.update(missing)
    return Settings()

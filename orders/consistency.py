"""Read-your-writes tokens: the command API names the position of a write, the query API waits
until the projection serving a read has passed it. Opaque to clients (they only echo it)."""

from __future__ import annotations

import base64
import binascii

_PREFIX = "g1."
_MAX_TOKEN = 64


def token_for(global_position: int) -> str:
    raw = f"{_PREFIX}{global_position}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def position_of(token: str) -> int | None:
    """The global position a token names, or None when it is not one of ours."""
    if not token or len(token) > _MAX_TOKEN:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not raw.startswith(_PREFIX) or not raw[len(_PREFIX) :].isdigit():
        return None
    return int(raw[len(_PREFIX) :])

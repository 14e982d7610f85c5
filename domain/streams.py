"""Stream ids: one stream per aggregate instance, named "<kind>-<id_key>".

Addresses live in their client's stream and order lines ("order details") in their order's
stream; their locator claims find them. The kinds themselves are the catalogue's
(`domain.catalogue`): here is only the format.
"""

import re

_KIND = re.compile(r"[a-z][a-z_]{0,40}")


def stream_id(kind: str, id_key: int) -> str:
    if not _KIND.fullmatch(kind):
        raise ValueError(f"not a stream kind: {kind!r}")
    if isinstance(id_key, bool) or not isinstance(id_key, int):
        raise TypeError(f"a stream id_key is an int, not {id_key!r}")
    return f"{kind}-{id_key}"


def parse_stream_id(stream: str) -> tuple[str, int]:
    """The (kind, id_key) of a stream id; the inverse of `stream_id`."""
    kind, _, id_key = stream.rpartition("-")
    if not _KIND.fullmatch(kind) or not (id_key.isascii() and id_key.isdigit()):
        raise ValueError(f"not a stream id: {stream!r}")
    return kind, int(id_key)

"""The client's address, for rate limiting and logs.

`X-Forwarded-For` and `X-Real-IP` are anyone's to write, so they are read only when the direct
peer is a configured proxy (`ORDERS_TRUSTED_PROXIES`: addresses or CIDRs, comma-separated).
Then the client is the right-most `X-Forwarded-For` hop that is not itself a trusted proxy:
every hop to its right was appended by a proxy we trust, everything to its left was written by
the client and is ignored. Run uvicorn with `proxy_headers=False` so that this is the only rule
(its default trusts X-Forwarded-For from 127.0.0.1 and rewrites the peer address itself).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import Scope

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it (`1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `::1`), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """The peers allowed to tell us who the client is."""

    def __init__(self, networks: Iterable[IPNetwork] = ()) -> None:
        self.networks = tuple(networks)

    @classmethod
    def parse(cls, spec: str) -> TrustedProxies:
        """From `"10.0.0.1, 192.168.0.0/16"`; a malformed entry is a configuration error."""
        entries = [entry.strip() for entry in spec.split(",") if entry.strip()]
        try:
            return cls(ipaddress.ip_network(entry, strict=False) for entry in entries)
        except ValueError as e:
            raise ValueError(f"ORDERS_TRUSTED_PROXIES: {e}") from e

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: IPAddress | None) -> bool:
        return address is not None and any(
            address.version == net.version and address in net for net in self.networks
        )


def _header(scope: Scope, wanted: bytes) -> str | None:
    values = [value for name, value in scope["headers"] if name == wanted]
    if not values:
        return None
    # repeated headers are one comma-separated list
    return b",".join(values).decode("latin-1")


def client_ip(scope: Scope, proxies: TrustedProxies) -> str:
    """The address to account the request to."""
    peer = scope.get("client")
    host = str(peer[0]) if peer else "unknown"
    if not proxies or not proxies.trusts(parse_address(host)):
        return host
    forwarded = _header(scope, b"x-forwarded-for")
    if forwarded is not None:
        for hop in reversed(forwarded.split(",")):
            address = parse_address(hop)
            if address is None:
                # a trusted proxy would not write garbage: misconfigured chain, use the peer
                return host
            if not proxies.trusts(address):
                return str(address)
    real_ip = _header(scope, b"x-real-ip")
    address = parse_address(real_ip) if real_ip is not None else None
    return str(address) if address is not None else host

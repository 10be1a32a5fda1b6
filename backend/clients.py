"""Tell which client address a request comes from, believing a proxy's X-Forwarded-For only when told to."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.requests import HTTPConnection

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# One IPv6 subscriber usually holds a whole /64: limiting single addresses would let them pick a fresh one a request.
IPV6_PREFIX = 64


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """Return the networks written as addresses or CIDR blocks ("10.0.0.5", "10.0.0.0/8", "::1").

    Raises:
        ValueError: an entry is not an address or a network, named in the message.
    """
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or network") from None
    return tuple(networks)


def client_address(connection: HTTPConnection, trusted_proxies: Sequence[IPNetwork] = ()) -> str:
    """Return the address to count a request against: the peer's, or the client's as a trusted proxy forwarded it.

    When the peer is one of `trusted_proxies`, X-Forwarded-For is read from its right end (what the proxy added)
    leftwards, past any further trusted proxies; the first address that is not one is the client. Anything left of
    it was written by the client and proves nothing. IPv6 addresses count as their /64 network.
    """
    peer = connection.client.host if connection.client else ""
    address = _parse(peer)
    if address is None:
        return peer or "unknown"
    if trusted_proxies and _trusted(address, trusted_proxies):
        forwarded = ",".join(connection.headers.getlist("x-forwarded-for")).split(",")
        for hop in reversed(forwarded):
            hop_address = _parse(hop.strip())
            if hop_address is None:
                break  # a malformed entry: stop at the last address a trusted proxy vouched for
            address = hop_address
            if not _trusted(hop_address, trusted_proxies):
                break
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def _parse(text: str) -> IPAddress | None:
    """Return the address in `text` (an IPv4-mapped IPv6 address as IPv4), or None."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in networks)

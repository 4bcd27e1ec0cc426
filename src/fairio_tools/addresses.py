"""Which network addresses and host names are not public: the rules both the catalogue's URL
policy and the link checker's SSRF guard apply.

Pure functions of an address or a name (nothing is resolved or connected to), so the catalogue
review uses them without the link checker. An IPv6 address that carries an IPv4 address
(mapped, compatible, translated, NAT64, 6to4, Teredo) is judged by the IPv4 address it carries.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

CLOUD_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task metadata
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)
"""Refused even when a test or an intranet deployment allows their network."""

LOCAL_HOST_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet")


NAT64 = ipaddress.ip_network("64:ff9b::/96")
"""RFC 6052 well-known prefix: a NAT64 gateway connects to the IPv4 in the last 32 bits."""
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
"""RFC 8215 local-use NAT64 prefix: the IPv4 is in the last 32 bits."""
IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
"""RFC 2765 IPv4-translated addresses (SIIT): ``::ffff:0:a.b.c.d``."""
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
"""Deprecated IPv4-compatible addresses ``::a.b.c.d`` (``::`` and ``::1`` excepted)."""


def _last_32_bits(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)


def same_host_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address is merely another spelling of.

    IPv4-mapped (``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``) and IPv4-translated
    (``::ffff:0:a.b.c.d``) addresses reach the IPv4 host itself, so they are judged as that
    host and nothing else.
    """
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in IPV4_TRANSLATED:
        return _last_32_bits(address)
    if address in IPV4_COMPATIBLE and int(address) > 1:
        return _last_32_bits(address)
    return None


def tunnelled_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """IPv4 addresses a gateway or relay would connect to for an IPv6 address.

    NAT64 (``64:ff9b::/96``, ``64:ff9b:1::/48``), 6to4 (``2002::/16``) and Teredo
    (``2001::/32``: server and client) carry IPv4 addresses; each must be allowed.
    """
    if not isinstance(address, ipaddress.IPv6Address):
        return ()
    if address in NAT64 or address in NAT64_LOCAL:
        return (_last_32_bits(address),)
    if address.sixtofour is not None:
        return (address.sixtofour,)
    if address.teredo is not None:
        return address.teredo
    return ()


def _plain_problem(address: IPAddress, allow: Iterable[IPNetwork]) -> str | None:
    """Why ``address`` itself (no embedded address considered) is refused under ``allow``."""
    if address in CLOUD_METADATA:
        return "cloud metadata address"
    for test, reason in (
        (address.is_loopback, "loopback address"),
        (address.is_link_local, "link-local address"),
        (address.is_private, "private address"),
        (address.is_multicast, "multicast address"),
        (address.is_unspecified, "unspecified address"),
        (address.is_reserved, "reserved address"),
        (not address.is_global, "non-public address"),
    ):
        if test:
            allowed = any(address.version == net.version and address in net for net in allow)
            return None if allowed else reason
    return None


def address_problem(address: IPAddress, allow: Iterable[IPNetwork] = ()) -> str | None:
    """Why connecting to ``address`` is refused, or None when it is a public address or lies
    in an ``allow``-ed network.

    An IPv6 address that carries an IPv4 address is judged by that IPv4 address, under the
    same allow-list: allowing an IPv6 range never lets a mapped or tunnelled private IPv4
    through. Cloud metadata addresses are refused whatever is allowed.
    """
    allow = tuple(allow)
    if (same := same_host_ipv4(address)) is not None:
        reason = _plain_problem(same, allow)
        return None if reason is None else f"{reason} ({same} written as IPv6)"
    for carried in tunnelled_ipv4(address):
        if (reason := _plain_problem(carried, allow)) is not None:
            return f"{reason} ({carried} carried in IPv6)"
    return _plain_problem(address, allow)


def host_name_problem(host: str) -> str | None:
    """Why a host (name or IP literal, as written in a URL) is local, without resolving it."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return address_problem(ipaddress.ip_address(host))
    except ValueError:
        pass
    if host in LOCAL_HOST_NAMES or host.endswith(LOCAL_SUFFIXES) or "." not in host:
        return "local host name"
    return None

"""SSRF guard: the link checker never connects to a non-public address.

A catalogue is written by anyone who opens a pull request, so its URLs are untrusted. Every
address is checked three times, each cheap: an IP literal in the URL before any request, every
address a host name resolves to (after DNS, so ``localtest.me`` cannot slip through), and the
exact socket address right before a socket is created (so a redirect hop or a DNS answer that
changed between the two cannot either). Refusing raises :class:`BlockedAddress` without opening
a connection.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

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


class BlockedAddress(OSError):
    """A URL's host is, or resolves to, an address the guard refuses."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"{host} -> {address}: {reason}")
        self.host = host
        self.address = address
        self.reason = reason


def address_problem(address: IPAddress) -> str | None:
    """Why ``address`` is not a public internet address, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
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
            return reason
    return None


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


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses may be connected to: public ones, plus explicitly allowed networks."""

    allow: tuple[IPNetwork, ...] = ()

    @classmethod
    def allowing(cls, networks: Iterable[str]) -> AddressPolicy:
        """A policy that also permits ``networks`` (CIDR strings), e.g. a test's loopback."""
        return cls(tuple(ipaddress.ip_network(n, strict=False) for n in networks))

    def problem(self, address: str) -> str | None:
        """Why connecting to ``address`` is refused, or None when it is allowed."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        reason = address_problem(ip)
        if reason is None or ip in CLOUD_METADATA:
            return reason
        return None if any(ip in net for net in self.allow) else reason

    def check(self, host: str, address: str) -> None:
        """Raise :class:`BlockedAddress` unless ``address`` (which ``host`` named) is allowed."""
        reason = self.problem(address)
        if reason is not None:
            raise BlockedAddress(host, address, reason)

    def check_literal(self, host: str) -> None:
        """Check a URL host that is an IP literal; names are checked once resolved."""
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        self.check(host, host.strip("[]"))


@dataclass
class GuardedResolver(AbstractResolver):
    """Resolves with the default resolver and refuses the answer if any address is blocked.

    Refusing the whole answer, not just the bad addresses, means a name that points at both a
    public and a private address is treated as hostile.
    """

    policy: AddressPolicy
    inner: AbstractResolver = field(default_factory=DefaultResolver)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self.inner.resolve(host, port, family)
        for answer in answers:
            self.policy.check(host, answer["host"])
        return answers

    async def close(self) -> None:
        await self.inner.close()


SocketFactory = Callable[[tuple], socket.socket]


def guarded_socket_factory(policy: AddressPolicy) -> SocketFactory:
    """An aiohttp ``socket_factory`` that checks the exact address before creating a socket."""

    def create(addr_info: tuple) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        policy.check(str(sockaddr[0]), str(sockaddr[0]))
        sock = socket.socket(family=family, type=type_, proto=proto)
        sock.setblocking(False)
        return sock

    return create

"""SSRF guard: the link checker never connects to a non-public address.

A catalogue is written by anyone who opens a pull request, so its URLs are untrusted. Every
address is checked three times, each cheap: an IP literal in the URL before any request, every
address a host name resolves to (after DNS, so ``localtest.me`` cannot slip through), and the
exact socket address right before a socket is created (so a redirect hop or a DNS answer that
changed between the two cannot either). Refusing raises :class:`BlockedAddress` without opening
a connection. Which addresses are refused is :mod:`fairio_tools.addresses`, shared with the
catalogue's URL policy.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from fairio_tools.addresses import IPNetwork, address_problem


class BlockedAddress(OSError):
    """A URL's host is, or resolves to, an address the guard refuses."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"{host} -> {address}: {reason}")
        self.host = host
        self.address = address
        self.reason = reason


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
        return address_problem(ipaddress.ip_address(address.split("%", 1)[0]), self.allow)

    def check(self, host: str, address: str) -> None:
        """Raise :class:`BlockedAddress` unless ``address`` (which ``host`` named) is allowed."""
        reason = self.problem(address)
        if reason is not None:
            raise BlockedAddress(host, address, reason)

    def check_literal(self, host: str) -> None:
        """Check a URL host that is an IP literal; names are checked once resolved."""
        literal = host.strip("[]")
        try:
            ipaddress.ip_address(literal.split("%", 1)[0])  # an IPv6 zone: fe80::1%eth0
        except ValueError:
            return
        self.check(host, literal)


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

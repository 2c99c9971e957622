"""Which push endpoints the server will send to: https on public hosts only, so no client can make
the server send requests inside its own network."""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from server.errors import Invalid

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Looks up a host name: its addresses as text, none when it does not resolve.
Resolver = Callable[[str], Awaitable[list[str]]]

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")
#: IPv6 ranges that carry an IPv4 address in their last 32 bits: IPv4-compatible (deprecated), IPv4-translated
#: (``::ffff:0:a.b.c.d``, RFC 2765 / SIIT, which Python 3.11's tables call global) and NAT64.
_EMBEDDING_IPV4 = (
    ipaddress.IPv6Network("::/96"),
    ipaddress.IPv6Network("::ffff:0:0:0/96"),
    ipaddress.IPv6Network("64:ff9b::/96"),
)
#: IETF protocol assignments (RFC 6890): Python 3.11 calls 192.0.0.9 and 192.0.0.10 global, but no push service
#: lives there; the whole block is refused.
_IETF_PROTOCOL = ipaddress.IPv4Network("192.0.0.0/24")
#: NAT64 prefixes an operator picks for their own network (RFC 8215): they lead wherever that network goes.
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
#: A label that makes a host an IPv4 address to browsers and to ``inet_aton``: decimal, octal or hex.
_NUMBER = re.compile(r"0x[0-9a-f]*|[0-9]+")


def _is_public(address: IPAddress) -> bool:
    """Whether ``address`` is a public unicast address, judging an IPv4 address inside an IPv6 one by itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _LOCAL_NAT64:
            return False
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and any(address in network for network in _EMBEDDING_IPV4):
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFF_FFFF)
        if embedded is not None:
            return _is_public(embedded)
    elif address in _IETF_PROTOCOL:
        return False
    return address.is_global and not address.is_multicast


def _is_internal_name(host: str) -> bool:
    return host in _LOOPBACK_NAMES or host.endswith(_INTERNAL_SUFFIXES)


def _is_loopback(host: str, addresses: list[str]) -> bool:
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def _numeric_ipv4(host: str) -> bool:
    """Whether ``host`` is an IPv4 address in a short or numeric form (``127.1``, ``0x7f.1``, ``2130706433``).

    Browsers and the C resolver read a host whose last label is a number as an IPv4 address.
    """
    return _NUMBER.fullmatch(host.rsplit(".", 1)[-1]) is not None


async def resolve_host(host: str) -> list[str]:
    """The addresses ``host`` resolves to now (the event loop's ``getaddrinfo``); none when it does not resolve."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]).split("%")[0] for info in infos})


async def check_endpoint(
    endpoint: str,
    *,
    allow_insecure_loopback: bool = False,
    resolve: Resolver = resolve_host,
    field: str = "endpoint",
    service: str = "push service",
) -> list[str]:
    """Refuse an endpoint the server must not send to.

    Accepted: ``https`` URLs without credentials whose host is a public name or address and resolves only to
    public addresses. An IPv4 address must be written as four decimal numbers; one inside an IPv6 address
    (mapped, IPv4-compatible, NAT64, 6to4) is judged as itself. With ``allow_insecure_loopback``
    (``KUMPUL_ALLOW_INSECURE_PUSH=1``, for tests and local development) ``http`` or ``https`` on loopback is
    accepted too.

    Args:
        endpoint: The subscription's endpoint URL.
        allow_insecure_loopback: Also accept loopback hosts, over http too.
        resolve: Looks up host names (tests give their own; the default asks the system's resolver).
        field: The name errors give the address (``endpoint``; ``url`` for the source of record).
        service: What the address should lead to, for the errors' words (``push service``).

    Returns:
        The addresses checked: the sender connects to these, not to a fresh DNS answer, so a name
        that rebinds to an internal address after the check cannot take a push request inside.

    Raises:
        Invalid: Naming what is wrong, with field ``endpoint``.
    """
    try:
        parts = urlsplit(endpoint)
        if parts.port == 0:  # reading the port also refuses one that is not a number
            raise ValueError("port 0")
        host = (parts.hostname or "").rstrip(".").lower()
        if not host.isascii():
            host = host.encode("idna").decode("ascii")  # as the resolver reads it: full-width letters fold
    except (ValueError, UnicodeError):
        raise Invalid(f"{field} is not a URL", field=field) from None
    if parts.scheme not in ("https", "http") or not host:
        raise Invalid(f"{field} must be an https URL of a {service}", field=field)
    if "@" in parts.netloc:
        raise Invalid(f"{field} must not carry credentials", field=field)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is None and _numeric_ipv4(host):
        raise Invalid(f"{field} host {host!r} is not a host name or a dotted IPv4 address", field=field)
    addresses = [str(literal)] if literal is not None else await resolve(host)
    if allow_insecure_loopback and _is_loopback(host, addresses):
        return addresses
    if parts.scheme != "https":
        raise Invalid(f"{field} must use https", field=field)
    if _is_internal_name(host):
        raise Invalid(f"{field} host {host!r} is not a public {service}", field=field)
    if not addresses:
        raise Invalid(f"{field} host {host!r} does not resolve", field=field)
    for address in addresses:
        if not _is_public(ipaddress.ip_address(address)):
            raise Invalid(
                f"{field} host {host!r} is a loopback, private or link-local address; a {service} must be public",
                field=field,
            )
    return addresses

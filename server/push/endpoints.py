"""Which push endpoints the server will send to: https on public hosts only, so no client can make
the server send requests inside its own network."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from server.errors import Invalid

_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"})


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def _is_loopback(host: str, addresses: list[str]) -> bool:
    if host.lower() in _LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


async def _resolve(host: str) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(info[4][0]).split("%")[0] for info in infos})


async def check_endpoint(endpoint: str, *, allow_insecure_loopback: bool = False) -> list[str]:
    """Refuse an endpoint the server must not send to.

    Accepted: ``https`` URLs whose host is a public name or address and resolves only to public
    addresses. With ``allow_insecure_loopback`` (``KUMPUL_ALLOW_INSECURE_PUSH=1``, for tests and local
    development) ``http`` or ``https`` on loopback is accepted too.

    Returns:
        The addresses checked: the sender connects to these, not to a fresh DNS answer, so a name
        that rebinds to an internal address after the check cannot take a push request inside.

    Raises:
        Invalid: Naming what is wrong, with field ``endpoint``.
    """
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        raise Invalid("endpoint is not a URL", field="endpoint") from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        raise Invalid("endpoint must be an https URL of a push service", field="endpoint")
    if parts.username or parts.password:
        raise Invalid("endpoint must not carry credentials", field="endpoint")
    del port
    try:
        literal: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    addresses = [str(literal)] if literal is not None else await _resolve(host)
    if allow_insecure_loopback and _is_loopback(host, addresses):
        return addresses
    if parts.scheme != "https":
        raise Invalid("endpoint must use https", field="endpoint")
    if not addresses:
        raise Invalid(f"endpoint host {host!r} does not resolve", field="endpoint")
    if host.lower() in _LOOPBACK_NAMES or host.lower().endswith((".localhost", ".local", ".internal")):
        raise Invalid(f"endpoint host {host!r} is not a public push service", field="endpoint")
    for address in addresses:
        if not _is_public(ipaddress.ip_address(address)):
            raise Invalid(
                f"endpoint host {host!r} is a loopback, private or link-local address; push services are public",
                field="endpoint",
            )
    return addresses

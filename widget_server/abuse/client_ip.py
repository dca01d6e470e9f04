"""The client address that limits and caps are keyed on.

The address is the socket's; ``ProxyFix`` (installed by ``create_app`` only
when a trusted proxy count is configured) rewrites ``remote_addr`` from the
trusted hops of X-Forwarded-For, so a forged header never moves a limit.
IPv6 clients are counted per /64 (one subscriber usually holds a whole /64),
IPv4-mapped IPv6 addresses as the IPv4 address they carry.
"""

from __future__ import annotations

import ipaddress

from flask import request


def normalise_client_address(address: str | None) -> str:
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def client_ip_key() -> str:
    return normalise_client_address(request.remote_addr)

"""Where a URL a tenant sets may lead: public addresses only, and the connection pinned.

A provider account's base URL is set by tenants (admin, API, command line)
and the server then fetches it, so without a rule it is a tenant's way into
the server's own network: loopback services, the cloud metadata endpoint,
the office LAN. The rule, checked when the URL is saved (``check_url``) and
again on every connection (``PinnedAdapter``):

* https only (http as well while ``DEVELOPMENT`` is on), no user name or
  password, no query and no fragment (a trailing ``?`` or ``#`` would let a
  tenant cut our documented paths off and pick any path of a host);
* the host is a name, a dotted-quad IPv4 or a bracketed IPv6 address; the
  numeric spellings resolvers also accept (``2130706433``, ``0x7f.1``,
  ``127.1``, ``0177.0.0.1``) are refused with the address they mean;
* every address the host resolves to is public: not loopback, private,
  link-local (169.254.169.254), shared CGNAT (100.64/10), multicast,
  unspecified, reserved, site-local, documentation or another special-purpose
  range (``_SPECIAL_USE``), nor an IPv6 form that embeds an IPv4 address
  (IPv4-mapped, NAT64, 6to4, Teredo);
* unless the operator allows it in ``PROVIDER_PRIVATE_HOSTS``: host names
  (any port), ``host:port``, IP addresses or CIDR networks (an on-premises
  PBX; the project's tests and benchmarks list their loopback fakes).

The connection goes to the address that was just checked, never to a second
lookup, so a name that answers a public address to the check and loopback to
the connect (DNS rebinding) gets nowhere. Name resolution goes through
``resolve``, the one seam a test may swap (no DNS server is reachable there).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

# Raised at connect time when the host resolves to an address the rule refuses: the
# adapters' own class (they import nothing of ours), so they tell it from a network failure.
from widget_server.providers.base import AddressRefused

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# IPv6 forms that carry an IPv4 address a gateway may reach on our behalf.
_EMBEDS_IPV4 = tuple(ipaddress.ip_network(n) for n in (
    "64:ff9b::/96", "64:ff9b:1::/48", "2002::/16", "2001::/32"))
# Ranges not globally reachable (IANA special-purpose registries) that Python 3.11's
# is_private/is_global take for public, and the documentation ranges, named as such.
_SPECIAL_USE = tuple((ipaddress.ip_network(net), words) for net, words in (
    ("fec0::/10", "a site-local IPv6 address"),
    ("192.0.0.0/24", "an address reserved for IETF protocol assignments"),
    ("192.88.99.0/24", "a 6to4 relay anycast address"),
    ("192.0.2.0/24", "a documentation address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
))
# Within 192.0.0.0/24, the two that are globally reachable (PCP and TURN anycast).
_SPECIAL_USE_GLOBAL = tuple(ipaddress.ip_network(n) for n in ("192.0.0.9/32", "192.0.0.10/32"))
_LABEL = r"(?!-)[a-z0-9_-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")
_NUMERIC_PART = re.compile(r"0[xX][0-9a-fA-F]*|[0-9]+")


log = logging.getLogger(__name__)
_MUST_BE_PUBLIC = ("a provider address must be public, unless the operator lists it in "
                   "WIDGET_SERVER_PROVIDER_PRIVATE_HOSTS.")


class RefusedURL(ValueError):
    """A URL the rule refuses; ``str()`` is a sentence for the person who set it."""


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to (the seam tests swap: no DNS there)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def address_class(address: Address) -> str | None:
    """Why ``address`` is not a public one, as words, or None when it is public."""
    if address.version == 6 and address.ipv4_mapped is not None:
        return "an IPv4-mapped IPv6 address"
    if address.version == 6 and any(address in net for net in _EMBEDS_IPV4):
        return "an IPv6 address that embeds an IPv4 address"
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (where cloud metadata lives)"
    if address.is_multicast:
        return "a multicast address"
    if address in _CGNAT:
        return "a shared (CGNAT) address"
    if address.is_reserved:
        return "an address reserved for special use"
    if not any(address in net for net in _SPECIAL_USE_GLOBAL):
        for net, words in _SPECIAL_USE:
            if address in net:
                return words
    if address.is_private:
        return "a private address"
    if not address.is_global:
        return "an address reserved for special use"
    return None


@dataclass(frozen=True)
class Allowance:
    """One entry of ``PROVIDER_PRIVATE_HOSTS``: a host name and/or network, maybe a port."""

    host: str | None = None
    network: Network | None = None
    port: int | None = None

    def allows(self, host: str, port: int, address: Address | None) -> bool:
        return ((self.host is None or self.host == host)
                and (self.network is None or (address is not None and address in self.network))
                and (self.port is None or self.port == port))


def parse_allowance(entry: str) -> Allowance:
    """``pbx.lan``, ``pbx.lan:8443``, ``10.0.0.5``, ``[fd00::5]:443`` or ``10.0.0.0/8``."""
    text = entry.strip().lower()
    try:
        if "/" in text:
            return Allowance(network=ipaddress.ip_network(text, strict=False))
        host, port = text, None
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else None
            if rest and port is None:
                raise ValueError
        elif text.count(":") == 1:
            host, raw_port = text.split(":")
            port = int(raw_port)
        try:
            return Allowance(network=ipaddress.ip_network(host), port=port)
        except ValueError:
            if not _HOST_NAME.fullmatch(host.rstrip(".")):
                raise
            return Allowance(host=host.rstrip("."), port=port)
    except ValueError:
        raise ValueError(f"PROVIDER_PRIVATE_HOSTS: {entry!r} is not a host, host:port or "
                         "CIDR network.") from None


@dataclass(frozen=True)
class Policy:
    """The rule as this installation sets it: built from the settings by ``policy``."""

    development: bool = False
    allowances: tuple[Allowance, ...] = ()

    def _allowed(self, host: str, port: int, address: Address | None) -> bool:
        return any(a.allows(host, port, address) for a in self.allowances)

    def _named(self, host: str, port: int) -> bool:
        """The operator listed this very host name: it may resolve to private addresses."""
        return any(a.host is not None and a.allows(host, port, None) for a in self.allowances)

    def target(self, url: str) -> tuple[str, str, int]:
        """Scheme, host (lower case, IPv6 without brackets) and port of an acceptable URL."""
        if any(ch in url for ch in "?#"):
            raise RefusedURL("Give the address without a query (?) or fragment (#).")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise RefusedURL("This is not a valid address.") from None
        schemes = ("https", "http") if self.development else ("https",)
        if parts.scheme.lower() not in schemes:
            raise RefusedURL("Start the address with https://." if not self.development
                             else "Start the address with http:// or https://.")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise RefusedURL("Give the address without a user name or password (@): "
                             "credentials belong in the credential fields.")
        host = (parts.hostname or "").rstrip(".")
        if not host:
            raise RefusedURL("The address names no host.")
        scheme = parts.scheme.lower()
        port = port or (443 if scheme == "https" else 80)
        if "[" in parts.netloc:
            try:
                ipaddress.IPv6Address(host)
            except ValueError:
                raise RefusedURL(f"[{host}] is not an IPv6 address.") from None
            return scheme, host, port
        labels = host.split(".")
        if _NUMERIC_PART.fullmatch(labels[-1]):
            address = _numeric_ipv4(labels)
            if str(address) != host:
                why = address_class(address)
                raise RefusedURL(f"{host} is a numeric spelling of {address}" + (
                    f", {why}: the address must be public." if why
                    else f": write it as {address}."))
            return scheme, host, port
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_host = ""
        if not _HOST_NAME.fullmatch(ascii_host):
            raise RefusedURL(f"{host} is not a valid host name.")
        return scheme, ascii_host, port

    def addresses(self, host: str, port: int) -> list[Address]:
        """The addresses to connect to: each checked, in resolver order."""
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            found = [literal]
        else:
            try:
                found = resolve(host, port)
            except (OSError, UnicodeError):
                raise RefusedURL(f"{host} does not resolve to an address.") from None
            if not found:
                raise RefusedURL(f"{host} does not resolve to an address.")
        for address in found:
            why = address_class(address)
            if why and not self._named(host, port) and not self._allowed(host, port, address):
                if literal is not None:  # the tenant typed it: naming its class tells nothing
                    raise RefusedURL(f"{host} is {why}: {_MUST_BE_PUBLIC}")
                # What an internal name resolves to is the operator's to see, not the tenant's.
                log.warning("provider host %s:%s resolves to %s (%s): refused",
                            host, port, address, why)
                raise RefusedURL(f"{host} resolves to a non-public address: {_MUST_BE_PUBLIC}")
        return found

    def check_url(self, url: str) -> None:
        """Refuse (``RefusedURL``) a base URL that breaks the rule; run when it is saved.

        A host the operator named is not resolved here: it may only resolve
        on the workers' network; it is resolved, and pinned, on connecting.
        """
        _, host, port = self.target(url)
        if not self._named(host, port):
            self.addresses(host, port)


def policy(settings) -> Policy:
    """The rule under ``settings`` (the app's config or the adapter's copy of it)."""
    return _policy(bool(settings.get("DEVELOPMENT")),
                   tuple(settings.get("PROVIDER_PRIVATE_HOSTS") or ()))


@lru_cache(maxsize=32)
def _policy(development: bool, entries: tuple[str, ...]) -> Policy:
    return Policy(development, tuple(parse_allowance(e) for e in entries if e.strip()))


def _numeric_ipv4(labels: list[str]) -> ipaddress.IPv4Address:
    """What a resolver makes of an all-numeric host (inet_aton: 1 to 4 parts, octal, hex)."""
    values = []
    for label in labels:
        if not _NUMERIC_PART.fullmatch(label):
            raise RefusedURL(f"{'.'.join(labels)} is not a valid host name.")
        if label[:2].lower() == "0x":
            values.append(int(label[2:] or "0", 16))
        elif len(label) > 1 and label.startswith("0"):
            if not set(label) <= set("01234567"):
                raise RefusedURL(f"{'.'.join(labels)} is not a valid address.")
            values.append(int(label, 8))
        else:
            values.append(int(label))
    *head, last = values
    if len(values) > 4 or any(v > 255 for v in head) or last >= 256 ** (5 - len(values)):
        raise RefusedURL(f"{'.'.join(labels)} is not a valid address.")
    number = last
    for index, value in enumerate(head):
        number += value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


class PinnedAdapter(HTTPAdapter):
    """Connects to the address ``Policy.addresses`` checked, never to a second lookup.

    The pool is opened on that address while the ``Host`` header, TLS SNI and
    certificate verification keep the name (``server_hostname`` and
    ``assert_hostname``). requests-hardened does the same pinning but checks
    only the first address, allows only loopback as an exception and resolves
    without a seam, so the operator's private hosts could not be honoured.
    """

    def __init__(self, rule: Policy):
        super().__init__()
        self.rule = rule

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert)
        try:
            scheme, host, port = self.rule.target(request.url.split("?")[0])
            address = self.rule.addresses(host, port)[0]
        except RefusedURL as error:
            raise AddressRefused(str(error), request=request) from None
        request.headers = CaseInsensitiveDict(request.headers or {})
        named = f"[{host}]" if ":" in host else host
        default = 443 if scheme == "https" else 80
        request.headers["Host"] = named if port == default else f"{named}:{port}"
        if scheme == "https":
            # urllib3 pool arguments that types-requests' _PoolKwargs does not list.
            pool_kwargs["assert_hostname"] = host  # type: ignore[typeddict-unknown-key]
            pool_kwargs["server_hostname"] = host  # type: ignore[typeddict-unknown-key]
        host_params["host"] = f"[{address}]" if address.version == 6 else str(address)
        host_params["port"] = port
        return host_params, pool_kwargs


@lru_cache(maxsize=32)
def session_for(rule: Policy) -> requests.Session:
    """One keep-alive session per rule; every connection it makes is checked and pinned."""
    session = requests.Session()
    session.trust_env = False  # a proxy would connect by name, past the pinning
    adapter = PinnedAdapter(rule)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session

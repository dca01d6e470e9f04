"""The widget's domain whitelist: normalising entries and matching origins.

Entries are hosts (``example.com``), wildcards (``*.example.com``: any
subdomain, not the apex) and, for development, ``host:port``. Hosts are
compared lower-cased and IDNA-encoded, so ``BÜCHER.example`` and
``xn--bcher-kva.example`` are one entry. Without a port an entry matches the
scheme's default port only, as a CSP host-source does.

Which names one party controls is the Public Suffix List's to say (the
``publicsuffixlist`` package bundles a snapshot and never fetches; both its
ICANN and private sections count, so ``*.github.io`` is refused like
``*.co.uk``): a wildcard must sit under a registrable domain, and a bare
public suffix is no site of its own. An entry stored before this rule that
breaks it matches nothing. ``localhost`` stays usable for development.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import idna
from publicsuffixlist import PublicSuffixList

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Parsed once (about 10,000 rules, a few milliseconds); read-only afterwards.
_SUFFIXES = PublicSuffixList()


class DomainError(ValueError):
    """A whitelist entry that cannot be used, with a sentence saying why."""


def _idna_host(host: str) -> str:
    """The host lower-cased, non-ASCII names in punycode as a browser's Origin has them.

    UTS 46 (IDNA 2008), as browsers use, not Python's IDNA 2003 codec, which
    turns ``straße.de`` into ``strasse.de`` where browsers send ``xn--strae-oqa.de``.
    """
    host = host.strip().rstrip(".")
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as error:
            raise DomainError(f"{host!r} is not a valid domain name.") from error
    host = host.lower()
    if host != "localhost" and not all(_LABEL.match(label) for label in host.split(".")):
        raise DomainError(f"{host!r} is not a valid domain name.")
    return host


def normalise_domain(raw: str) -> str:
    """The canonical form of a whitelist entry, or ``DomainError``."""
    text = raw.strip()
    if "://" in text:
        text = urlsplit(text).netloc
    text = text.split("/")[0]
    if not text:
        raise DomainError("Enter a domain such as example.com or *.example.com.")
    wildcard = text.startswith("*.")
    if wildcard:
        text = text[2:]
    host, _, port = text.partition(":")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise DomainError(f"{port!r} is not a port number.")
    if "*" in host:
        raise DomainError("Only a leading '*.' wildcard is allowed.")
    host = _idna_host(host)
    if wildcard and not _wildcard_base_ok(host):
        raise DomainError("A wildcard must sit under a registrable domain, like "
                          f"*.example.com: {host} is a public suffix, shared by unrelated "
                          "sites.")
    if not wildcard and host != "localhost" and _SUFFIXES.is_public(host):
        raise DomainError(f"'{host}' is a public suffix, not a site: enter a domain under "
                          "it, like shop.example.com.")
    return ("*." if wildcard else "") + host + (f":{int(port)}" if port else "")


def _wildcard_base_ok(host: str) -> bool:
    """Whether ``*.host`` stays within one registrable domain (and ``host`` is a name)."""
    return (not host.rsplit(".", 1)[-1].isdigit()
            and _SUFFIXES.privatesuffix(host) is not None)


def _split_origin(origin: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(origin.strip())
        scheme, host, port = parts.scheme.lower(), parts.hostname, parts.port
    except ValueError:
        return None
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    try:
        host = _idna_host(host)
    except DomainError:
        return None
    return scheme, host, port or _DEFAULT_PORTS[scheme]


def _entry_matches(entry: str, scheme: str, host: str, port: int) -> bool:
    pattern, _, entry_port = entry.partition(":")
    if int(entry_port or _DEFAULT_PORTS[scheme]) != port:
        return False
    if pattern.startswith("*."):
        return _wildcard_base_ok(pattern[2:]) and host.endswith(pattern[1:])
    return host == pattern


def origin_allowed(origin: str | None, entries: list[str], *, allow_http: bool) -> bool:
    """Whether ``origin`` (scheme://host[:port]) is on the whitelist."""
    split = _split_origin(origin or "")
    if split is None:
        return False
    scheme, host, port = split
    if scheme == "http" and not allow_http:
        return False
    return any(_entry_matches(entry, scheme, host, port) for entry in entries)


def same_origin(url: str | None, origin: str | None) -> bool:
    """Whether ``url`` lies on ``origin`` (scheme, host and port, as browsers compare them)."""
    split = _split_origin(origin_of(url) or "")
    return split is not None and split == _split_origin(origin or "")


def frame_ancestors(entries: list[str], *, allow_http: bool) -> str:
    """The CSP ``frame-ancestors`` value: exactly the whitelisted origins."""
    schemes = ("https", "http") if allow_http else ("https",)
    sources = [f"{scheme}://{entry}" for entry in entries for scheme in schemes
               if not entry.startswith("*.") or _wildcard_base_ok(entry[2:].partition(":")[0])]
    return "frame-ancestors " + (" ".join(sources) if sources else "'none'")


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of a URL such as a Referer, or None."""
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def embedding_origin(domains, *, origin: str | None, origin_argument: str | None,
                     referrer: str | None, allow_http: bool) -> str | None:
    """The page asking for a widget (its ``Origin``, else the frame's ``origin``
    argument, else its Referer's origin), when it is on the whitelist ``domains``."""
    candidate = origin or origin_argument or origin_of(referrer)
    return candidate if origin_allowed(candidate, domains, allow_http=allow_http) else None

"""Links to internal systems: URLs and addresses no one outside the organisation can reach.

A link is internal when its host is ``localhost``, a name under a suffix kept for
private networks (``.local``, ``.internal``, ``.corp``, ``.lan``, ``.intranet``,
``.home.arpa``...), a single label (``http://jira/``), or an address in a private,
loopback or link-local range (10/8, 172.16/12, 192.168/16, 127/8, 169.254/16; IPv6
``::1``, fc00::/7, fe80::/10). Found three ways: URLs with a scheme (any host shape),
``host:port`` or ``host/path`` without one (named or numbered internal hosts), and
bare private IPv4 addresses and internal host names.

Public URLs are not flagged: they are the links a draft is meant to contain.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from placet.supervisor.findings import Finding, finding

_INTERNAL_SUFFIXES = (
    "local",
    "localhost",
    "localdomain",
    "internal",
    "intranet",
    "corp",
    "lan",
    "home.arpa",
    "private",
)
_PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)
_URL = re.compile(r"(?<![\w.+-])[a-z][a-z0-9+.-]{1,15}://[^\s<>\"'`]+", re.IGNORECASE)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_SUFFIX = "|".join(re.escape(suffix) for suffix in _INTERNAL_SUFFIXES)
_IPV4 = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}"
# Without a scheme: an internal name or an IPv4 address, with a port or path or neither.
_SCHEMELESS = re.compile(
    rf"(?<![\w.@/:%+-])(localhost|{_IPV4}|(?:{_LABEL}\.)+(?:{_SUFFIX}))"
    r"(?::\d{1,5}(?![\d.]))?(?:/[^\s<>\"'`]*)?(?![\w@-]|\.\w)",
    re.IGNORECASE,
)
_VERSION_WORD = re.compile(r"(?i)(?:\bv|version|versi[oó]n|release|build)\s*$")
_TRAILING = ".,;:!?*_~"
_CLOSERS = {")": "(", "]": "[", "}": "{", ">": "<"}


def find_internal_urls(text: str) -> Iterator[Finding]:
    """Each link or address pointing at a host inside a private network."""
    taken: list[tuple[int, int]] = []
    for match in _URL.finditer(text):
        end = match.start() + len(_trimmed(match.group()))
        why = _internal_url_host(text[match.start() : end])
        taken.append((match.start(), match.end()))
        if why is not None:
            yield finding("internal_url", match.start(), end, why)
    for match in _SCHEMELESS.finditer(text):
        if any(start <= match.start() < stop for start, stop in taken):
            continue
        end = match.start() + len(_trimmed(match.group()))
        why = _schemeless_why(text, match, end)
        if why is not None:
            yield finding("internal_url", match.start(), end, why)


def _trimmed(url: str) -> str:
    """The URL without the sentence's punctuation or a bracket it does not open."""
    while url:
        last = url[-1]
        if last in _TRAILING or (last in _CLOSERS and url.count(last) > url.count(_CLOSERS[last])):
            url = url[:-1]
        else:
            break
    return url


def _internal_url_host(url: str) -> str | None:
    """Why the URL's host is internal, or None when it is public (or has no host)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    if not host:
        return None
    if "." not in host and ":" not in host:
        if host == "localhost":
            return "a link to localhost (this machine)"
        return f"a link to a single-label host ({host}) only an internal network resolves"
    return _host_why(host, "a link")


def _host_why(host: str, what: str) -> str | None:
    """Why a dotted name or an IP address is internal, or None."""
    host = host.lower().rstrip(".")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if host == "localhost" or host.endswith(".localhost"):
            return f"{what} to localhost (this machine)"
        for suffix in _INTERNAL_SUFFIXES:
            if host.endswith("." + suffix):
                return f"{what} to a host under .{suffix}, a private network's name"
        return None
    for network in _PRIVATE_NETWORKS:
        if address.version == network.version and address in network:
            return f"{what} to {address}, in the private or loopback range {network}"
    return None


def _schemeless_why(text: str, match: re.Match[str], end: int) -> str | None:
    """Why a scheme-less host (with or without port and path) is internal, or None."""
    host = match.group(1)
    bare = end == match.end(1)
    if bare and host.lower() == "localhost":
        return None  # "run it on localhost" names no address worth hiding
    version = _VERSION_WORD.search(text[max(0, match.start() - 12) : match.start()])
    if bare and host[0].isdigit() and version:
        return None  # version 10.0.0.1
    return _host_why(host, "an address" if bare else "a link")

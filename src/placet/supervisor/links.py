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

from placet.supervisor.findings import Finding, finding, lower_case

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
# Read outwards from each "://": the scheme before it, the rest of the URL after it.
_SCHEME = re.compile(r"[a-z][a-z0-9+.-]{1,15}\Z", re.IGNORECASE)
_URL_REST = re.compile(r"[^\s<>\"'`]+")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
# Without a scheme: an IPv4 address (the pattern starts with its first digit and checks
# the character before it afterwards, which is quicker than a look-behind first) or an
# internal name, then a port, a path, both or neither.
_IP_HOST = re.compile(r"\d(?<![\w./:%+-]\d)\d{0,2}(?:\.\d{1,3}){3}(?![\w-]|\.\w)")
_DOTTED_QUAD = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d")
_PORT_PATH = re.compile(r"(?::\d{1,5}(?!\d))?(?:/[^\s<>\"'`]*)?(?![\w@-]|\.\w)")
_NAME_NEEDLES = (*(f".{suffix}" for suffix in _INTERNAL_SUFFIXES), "localhost")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_VERSION_WORD = re.compile(r"(?i)(?:\bv|version|versi[oó]n|release|build)\s*$")
_TRAILING = ".,;:!?*_~\\"  # a backslash too: the end of \" in a JSON string
_CLOSERS = {")": "(", "]": "[", "}": "{", ">": "<"}


def find_internal_urls(text: str, lowered: str | None = None) -> Iterator[Finding]:
    """Each link or address pointing at a host inside a private network."""
    lowered = lower_case(text) if lowered is None else lowered
    urls = list(_urls(text))
    for start, end in urls:
        why = _internal_url_host(text[start:end])
        if why is not None:
            yield finding("internal_url", start, end, why)
    seen: set[int] = set()
    for start, host_end in [*_ip_hosts(text), *_named_hosts(lowered)]:
        if start in seen or any(begin <= start < stop for begin, stop in urls):
            continue  # inside a URL: its host was judged with it
        seen.add(start)
        found = _schemeless(text, start, host_end)
        if found is not None:
            yield found


def _urls(text: str) -> Iterator[tuple[int, int]]:
    """The span of each URL with a scheme, without the sentence's punctuation after it."""
    at = text.find("://")
    while at != -1:
        scheme = _SCHEME.search(text, max(0, at - 16), at)
        rest = _URL_REST.match(text, at + 3)
        if scheme is not None and rest is not None:
            start = scheme.start()
            before = text[start - 1] if start else " "
            if not (before.isalnum() or before in "_.+-"):
                yield start, start + len(_trimmed(text[start : rest.end()]))
        at = text.find("://", at + 3)


def _ip_hosts(text: str) -> Iterator[tuple[int, int]]:
    if _DOTTED_QUAD.search(text) is None:
        return  # a pattern starting with a literal dot skips through prose: quicker
    for match in _IP_HOST.finditer(text):
        yield match.start(), match.end()


def _named_hosts(lowered: str) -> Iterator[tuple[int, int]]:
    """Host names ending in an internal suffix, or ``localhost``, with no scheme."""
    for needle in _NAME_NEEDLES:
        at = lowered.find(needle)
        while at != -1:
            end = at + len(needle)
            if not _name_goes_on(lowered, end):
                start = at
                while start and lowered[start - 1] in _HOST_CHARS:
                    start -= 1
                if _labels(lowered[start:end]):
                    yield start, end
            at = lowered.find(needle, end)


def _name_goes_on(lowered: str, end: int) -> bool:
    """The host name does not end at ``end`` (``.localdomain``, ``.local.example.com``)."""
    after = lowered[end : end + 2]
    if not after:
        return False
    return after[0].isalnum() or after[0] in "_-" or (after[0] == "." and after[1:].isalnum())


def _labels(host: str) -> bool:
    """A host name of valid labels (``db01.prod.internal``, ``localhost``)."""
    return all(_LABEL.match(label) for label in host.split("."))


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
    if host[:1].isdigit() or ":" in host:  # an address (names never start with a digit here)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return None
        for network in _PRIVATE_NETWORKS:
            if address.version == network.version and address in network:
                return f"{what} to {address}, in the private or loopback range {network}"
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return f"{what} to localhost (this machine)"
    for suffix in _INTERNAL_SUFFIXES:
        if host.endswith("." + suffix):
            return f"{what} to a host under .{suffix}, a private network's name"
    return None


def _schemeless(text: str, start: int, host_end: int) -> Finding | None:
    """The finding for a scheme-less host (with or without port and path), or None."""
    before = text[start - 1] if start else " "
    if before.isalnum() or before in "_./:%+-":
        return None  # part of a longer name or a URL
    if before == "@" and not text[start].isdigit():
        return None  # an e-mail address's domain (its own finding); admin@10.0.0.7 is a host
    rest = _PORT_PATH.match(text, host_end)
    if rest is None:
        return None
    end = start + len(_trimmed(text[start : rest.end()]))
    host = text[start:host_end]
    bare = end == host_end
    if bare and host.lower() == "localhost":
        return None  # "run it on localhost" names no address worth hiding
    if bare and host[0].isdigit() and _VERSION_WORD.search(text[max(0, start - 12) : start]):
        return None  # version 10.0.0.1
    why = _host_why(host, "an address" if bare else "a link")
    return None if why is None else finding("internal_url", start, end, why)

"""Anonymise IP addresses for sharing: one mapping per report, so an address reads the same everywhere.

Every writer that anonymises (the HTML report, DataFrames of a shared capture) passes its events
through `anonymize` with one `AddressMap`, so that the address in an SDP ``c=`` line, in a
candidate table, in a stats report and in a URL is replaced by the same stand-in. Stand-ins come
from the documentation ranges (RFC 5737 for IPv4, RFC 3849 for IPv6), so nobody mistakes them for
real hosts. Loopback and unspecified addresses carry nothing worth hiding and are kept, so a local
demo still reads "127.0.0.1"; mDNS names (``<uuid>.local``) are random already and are kept too.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping
from typing import Any

#: Stand-in ranges, used in order: TEST-NET-2, TEST-NET-3, TEST-NET-1, then the benchmarking /15.
_V4_POOLS = ("198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24", "198.18.0.0/15")
_V6_POOL = "2001:db8::/32"

#: A run of address characters that starts and ends a token: IPv4, IPv6, maybe with `:port`;
#: also right after a STUN/TURN URI scheme (`turn:192.0.2.1:3478?transport=udp`, RFC 7064/7065).
_TOKEN = re.compile(r"(?:(?<![\w.:])|(?<=stun:)|(?<=stuns:)|(?<=turn:)|(?<=turns:))[0-9A-Fa-f.:]++(?![\w.:])",
                    re.IGNORECASE)
_PORT_SUFFIX = re.compile(r":\d{1,5}$")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _v4_stand_ins() -> Iterator[str]:
    for pool in _V4_POOLS:
        for host in ipaddress.ip_network(pool).hosts():
            yield str(host)


def _v6_stand_ins() -> Iterator[str]:
    base = int(ipaddress.ip_network(_V6_POOL).network_address)
    n = 0
    while True:
        n += 1
        yield str(ipaddress.IPv6Address(base + n))


def _parse(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class AddressMap:
    """Real address -> stand-in, filled as addresses are met; one per report (or notebook)."""

    def __init__(self) -> None:
        self.mapping: dict[str, str] = {}
        self._issued: set[str] = set()
        self._v4 = _v4_stand_ins()
        self._v6 = _v6_stand_ins()

    def kept(self, address: IPAddress) -> bool:
        """Loopback and unspecified addresses stay: they identify nobody."""
        return address.is_loopback or address.is_unspecified or str(address) in self._issued

    def address(self, text: str) -> str:
        """The stand-in of one address (any spelling); text that is not an address comes back unchanged."""
        parsed = _parse(text)
        if parsed is None or self.kept(parsed):
            return text
        key = str(parsed)
        if key not in self.mapping:
            stand_in = next(self._v4 if parsed.version == 4 else self._v6)
            self.mapping[key] = stand_in
            self._issued.add(stand_in)
        return self.mapping[key]

    def text(self, text: str) -> str:
        """Replace every address in free text (SDP, URLs, `host:port/udp`, diagnoses)."""
        if not any(c in text for c in ".:"):
            return text
        return _TOKEN.sub(self._replace, text)

    def _replace(self, match: re.Match[str]) -> str:
        token = match.group(0)
        if "." not in token and ":" not in token:
            return token
        for head in self._readings(token):
            parsed = _parse(head)
            if parsed is not None:
                return self.address(head) + token[len(head):]
        return token

    def _readings(self, token: str) -> list[str]:
        """Ways to read a token, best first: `addr:port` before a bare IPv6 when the address is known."""
        stripped = token.rstrip(".:")
        without_port = _PORT_SUFFIX.sub("", stripped)
        readings = [stripped, without_port]
        if without_port != stripped:
            known = _parse(without_port)
            # "2001:db8::7:3478" is both an IPv6 address and "2001:db8::7" port 3478; the address
            # met earlier (in SDP, before any `host:port` text) decides.
            if known is not None and (str(known) in self.mapping or self.kept(known)):
                readings.reverse()
        return readings


def anonymize(value: Any, addresses: AddressMap) -> Any:
    """Copy of a JSON-like value (events, headers, SDP text) with every IP address replaced."""
    if isinstance(value, str):
        return addresses.text(value)
    if isinstance(value, Mapping):
        return {k: anonymize(v, addresses) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [anonymize(v, addresses) for v in value]
    return value

"""Anonymise IP addresses (and candidate host names) for sharing: one mapping per report, so an address reads the same everywhere.

Every writer that anonymises (the HTML report, DataFrames of a shared capture) passes its events
through `anonymize` with one `AddressMap`, so that the address in an SDP ``c=`` line, in a
candidate table, in a stats report and in a URL is replaced by the same stand-in. Stand-ins come
from the documentation ranges (RFC 5737 for IPv4, RFC 3849 for IPv6), so nobody mistakes them for
real hosts. Loopback and unspecified addresses carry nothing worth hiding and are kept, so a local
demo still reads "127.0.0.1".

Candidates may carry a host *name* instead of an address (RFC 8839 allows an FQDN as the
connection-address; TURN servers and some SFUs advertise one). Those names are replaced too, in
candidate lines (``a=candidate:... udp 1 turn.corp.example.com 3478 typ host``, and `raddr`) and in
the `address` of candidate stats, by ``host-N.anonymized.invalid`` (RFC 6761 `.invalid`), one
stand-in per name across the report. mDNS candidate names are different: browsers make them a
random UUIDv4 + ``.local`` (draft-ietf-mmusic-mdns-ice-candidates §3.1.1), which hides the address
and is never reused across browser restarts, so ``<uuid>.local`` is already anonymous and is kept
(a reader still sees "mDNS"). A ``.local`` name that is not a UUID (``Jane-MacBook.local``) names a
device and is replaced (by ``host-N.anonymized.local``, still mDNS). Names made only of ``x``
labels (``x.x.x.x``, Jitsi's redaction) are kept. Server names in STUN/TURN and page URLs are kept:
they name a service, not a participant.
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
#: A candidate attribute's connection-address (RFC 8839 §5.1: foundation may be empty in the field)
#: and its `raddr`: the places where a host name stands in for an address.
_CANDIDATE_ADDRESS = re.compile(r"(candidate:\S* \d+ [A-Za-z-]+ \d+ )(\S+)(?= \d+ typ )", re.IGNORECASE)
_RELATED_ADDRESS = re.compile(r"(\braddr )(\S+)(?= rport )")
_HOST_NAME = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.?$")
_MDNS_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.local\.?$", re.IGNORECASE)
_REDACTED = re.compile(r"^x(?:\.x)+$", re.IGNORECASE)
#: Members of candidate stats that hold the candidate's address (or name).
_CANDIDATE_STATS = ("local-candidate", "remote-candidate")
_CANDIDATE_MEMBERS = ("address", "relatedAddress", "ip")

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
        self.names: dict[str, str] = {}  # candidate host name (lower case) -> stand-in
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

    @property
    def replaced(self) -> int:
        """How many distinct addresses and host names were given a stand-in."""
        return len(self.mapping) + len(self.names)

    def host(self, text: str) -> str:
        """The stand-in of a candidate's address or host name (see the module doc for what is kept)."""
        if _parse(text) is not None:
            return self.address(text)
        if not _HOST_NAME.match(text) or _MDNS_UUID.match(text) or _REDACTED.match(text) or text in self._issued:
            return text
        key = text.lower().rstrip(".")
        if key not in self.names:
            mdns = key.endswith(".local")  # a device's mDNS name: the stand-in stays mDNS
            self.names[key] = f"host-{len(self.names) + 1}.anonymized.{'local' if mdns else 'invalid'}"
            self._issued.add(self.names[key])
        return self.names[key]

    def text(self, text: str) -> str:
        """Replace every address in free text (SDP, URLs, `host:port/udp`, diagnoses), and host names
        where a candidate has its address."""
        if not any(c in text for c in ".:"):
            return text
        if "candidate:" in text or "raddr " in text:
            text = _CANDIDATE_ADDRESS.sub(self._replace_host, text)
            text = _RELATED_ADDRESS.sub(self._replace_host, text)
        return _TOKEN.sub(self._replace, text)

    def _replace_host(self, match: re.Match[str]) -> str:
        token = match.group(2)
        return match.group(1) + (token if _parse(token) is not None else self.host(token))

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
        out = {k: anonymize(v, addresses) for k, v in value.items()}
        if value.get("type") in _CANDIDATE_STATS:  # a candidate's stats: its address may be a host name
            for member in _CANDIDATE_MEMBERS:
                if isinstance(out.get(member), str):
                    out[member] = addresses.host(out[member])
        return out
    if isinstance(value, list | tuple):
        return [anonymize(v, addresses) for v in value]
    return value

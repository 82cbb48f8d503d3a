"""The one ICE candidate parser (RFC 8839 §5.1), keeping every extension attribute."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from functools import cached_property

from .errors import CandidateError
from .priority import DecodedPriority, decode_priority

_ICE_CHARS = re.compile(r"[A-Za-z0-9+/]+")  # RFC 8839 §5.1 ice-char


@dataclass(frozen=True)
class Candidate:
    """One ICE candidate as written in SDP or trickled."""

    foundation: str
    component: int
    transport: str
    priority: int
    address: str
    port: int
    type: str
    raddr: str | None = None
    rport: int | None = None
    tcptype: str | None = None
    generation: int | None = None
    ufrag: str | None = None
    network_id: int | None = None
    network_cost: int | None = None
    extras: tuple[tuple[str, str], ...] = ()
    mid: str | None = field(default=None, compare=False)
    #: grammar the parser met and kept going past (a trailing extension name with no value)
    parse_notes: tuple[str, ...] = field(default=(), compare=False)

    @cached_property
    def decoded_priority(self) -> DecodedPriority:
        return decode_priority(self.priority, self.type, self.component, self.transport)

    @property
    def is_mdns(self) -> bool:
        """Chromium hides host IPs behind random `<uuid>.local` names (RFC 8839 §5.1 mDNS)."""
        return self.address.lower().endswith(".local")

    @cached_property
    def address_family(self) -> str:
        if self.is_mdns:
            return "mDNS"
        if is_redacted(self.address):
            return "redacted"
        version = ip_version(self.address)
        return f"IPv{version}" if version else "hostname"

    @property
    def anomalies(self) -> list[str]:
        """What departs from RFC 8839/6544 grammar: kept as written, but worth a reader's eye."""
        found = list(self.parse_notes)
        transport, kind = self.transport.lower(), self.type
        if not self.foundation:
            found.append("empty foundation (RFC 8839: 1 to 32 ice-chars)")
        elif len(self.foundation) > 32 or not _ICE_CHARS.fullmatch(self.foundation):
            found.append(f"foundation {self.foundation!r} is not 1 to 32 ice-chars (ALPHA / DIGIT / + /)")
        if transport not in ("udp", "tcp"):
            found.append(f"transport {self.transport!r} is neither UDP nor TCP")
        if kind not in ("host", "srflx", "prflx", "relay"):
            found.append(f"candidate type {kind!r} is not host, srflx, prflx or relay")
        if transport == "udp" and self.tcptype is not None:
            found.append("tcptype on a UDP candidate")
        if transport == "tcp" and self.tcptype not in ("active", "passive", "so"):
            found.append(f"TCP candidate with tcptype {self.tcptype or 'missing'} (RFC 6544: active, passive or so)")
        for what, address in (("address", self.address), ("raddr", self.raddr)):
            problem = address_problem(address)
            if problem:
                found.append(f"{what} {address!r} {problem}")
        if self.rport is not None and not 0 <= self.rport <= 65535:
            found.append(f"rport {self.rport} is outside 0..65535")
        return found

    def to_sdp(self) -> str:
        """The candidate attribute value, without the `a=` prefix."""
        parts = [
            f"candidate:{self.foundation}", str(self.component), self.transport,
            str(self.priority), self.address, str(self.port), "typ", self.type,
        ]
        if self.raddr is not None:
            parts += ["raddr", self.raddr]
        if self.rport is not None:
            parts += ["rport", str(self.rport)]
        if self.tcptype is not None:
            parts += ["tcptype", self.tcptype]
        if self.generation is not None:
            parts += ["generation", str(self.generation)]
        if self.ufrag is not None:
            parts += ["ufrag", self.ufrag]
        if self.network_id is not None:
            parts += ["network-id", str(self.network_id)]
        if self.network_cost is not None:
            parts += ["network-cost", str(self.network_cost)]
        for key, value in self.extras:
            parts += [key, value]
        return " ".join(parts)


_DOTTED = re.compile(r"[0-9.]+")
#: An address a dump's recorder masked before we saw it (Jitsi's rtcstats writes `x.x.x.x` and
#: `x:x:x:x:x:x:x:x`): neither malformed nor a host name, just unknown.
_REDACTED = re.compile(r"[xX*]+(?:[.:][xX*]+)+")


def is_redacted(address: str | None) -> bool:
    return bool(address) and _REDACTED.fullmatch(address) is not None


def address_problem(address: str | None) -> str | None:
    """Why a candidate address is malformed, or None: an address with a colon must be IPv6
    (RFC 8839 §5.1: IPv4, IPv6 or an FQDN, and no host name holds a colon); all digits and dots must
    be IPv4. A host name (mDNS `.local` or any FQDN) is not checked further."""
    if not address:
        return None if address is None else "is empty"
    if is_redacted(address):
        return None
    if (":" in address or _DOTTED.fullmatch(address)) and ip_version(address) is None:
        return f"is not a valid IPv{6 if ':' in address else 4} address"
    return None


def ip_version(address: str) -> int | None:
    """4 or 6 for an IP address (an IPv6 zone id, `fe80::1%eth0`, is spelling), else None.
    inet_pton, not `ipaddress`: a million-candidate SDP spends seconds in ipaddress's parser."""
    try:
        socket.inet_pton(socket.AF_INET, address)
        return 4
    except (OSError, ValueError):
        pass
    try:
        socket.inet_pton(socket.AF_INET6, address.split("%", 1)[0])
        return 6
    except (OSError, ValueError):
        return None


def _int(value: str, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise CandidateError(f"{what} must be a number, got {value!r}") from None


def parse_candidate(text: str, mid: str | None = None) -> Candidate:
    """Parse `a=candidate:...`, `candidate:...` or the bare attribute value."""
    value = text.strip()
    if value.startswith("a="):
        value = value[2:]
    # what follows `candidate:` (or the bare attribute value) keeps its leading blank: it tells an
    # empty foundation apart
    value = value[len("candidate:"):] if value.startswith("candidate:") else text.rstrip()
    tokens = value.split()
    if value[:1].isspace() and len(tokens) >= 7 and tokens[5] == "typ":
        # `candidate: 1 udp ...`: the foundation is empty (real Google servers send this; pion and
        # libwebrtc accept it). Kept as an anomaly on this candidate, not an error for the file.
        tokens.insert(0, "")
    if len(tokens) < 8 or tokens[6] != "typ":
        raise CandidateError(
            "expected 'candidate:<foundation> <component> <transport> <priority> <address> <port>"
            f" typ <type> ...', got {text.strip()[:80]!r}"
        )
    foundation, component, transport, priority, address, port, _, cand_type = tokens[:8]
    known: dict[str, str] = {}
    extras: list[tuple[str, str]] = []
    rest = tokens[8:]
    notes = []
    if len(rest) % 2:  # kept: the candidate itself is whole, only its last extension is cut
        notes.append(f"extension attribute {rest[-1]!r} has no value (RFC 8839: name and value)")
        rest = rest[:-1]
    for key, val in zip(rest[::2], rest[1::2], strict=True):
        if key in ("raddr", "rport", "tcptype", "generation", "ufrag", "network-id", "network-cost"):
            known[key] = val
        else:
            extras.append((key, val))
    component_id = _int(component, "component")
    if not 1 <= component_id <= 256:
        raise CandidateError(f"component must be 1..256, got {component_id}")
    prio = _int(priority, "priority")
    if not 0 <= prio < 2**32:
        raise CandidateError(f"priority must fit 32 bits, got {prio}")
    port_number = _int(port, "port")
    if not 0 <= port_number <= 65535:
        raise CandidateError(f"port must be 0..65535, got {port_number}")
    return Candidate(
        foundation=foundation,
        component=component_id,
        transport=transport.lower(),
        priority=prio,
        address=address,
        port=port_number,
        type=cand_type,
        raddr=known.get("raddr"),
        rport=_int(known["rport"], "rport") if "rport" in known else None,
        tcptype=known.get("tcptype"),
        generation=_int(known["generation"], "generation") if "generation" in known else None,
        ufrag=known.get("ufrag"),
        network_id=_int(known["network-id"], "network-id") if "network-id" in known else None,
        network_cost=_int(known["network-cost"], "network-cost") if "network-cost" in known else None,
        extras=tuple(extras),
        mid=mid,
        parse_notes=tuple(notes),
    )

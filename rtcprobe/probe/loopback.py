"""Keep ICE on loopback when both peers are on this machine.

aioice never gathers 127.0.0.1 or ::1, so two peers on one host would meet over a real interface
address. When the other side is on loopback (a `127.0.0.1` target, `rtcprobe serve` on loopback,
the demo, the tests), rtcprobe gathers loopback addresses only and ignores remote candidates that
are not loopback, so no packet leaves the loopback interface.

Ignoring candidates is a policy, not something the peer did: the capture records which ones were
ignored and why (`ignored_reason`), and the ICE diagnosis names them when the session fails.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

import aioice.ice

#: Dotted IPv4 in the forms inet_aton takes (decimal, octal, hex parts; one to four of them).
_LEGACY_IPV4 = re.compile(r"(?i)(?:0x[0-9a-f]+|[0-9]+)(?:\.(?:0x[0-9a-f]+|[0-9]+)){0,3}")

_restricted = False
_original_request_received = aioice.ice.Connection.request_received

#: Why a remote candidate was not used; recorded on its `candidate` event and quoted by diagnoses.
LOOPBACK_POLICY = ("not a loopback address, and the target URL is on loopback: rtcprobe keeps ICE on "
                   "loopback so that no packet leaves this host")


def host_address(host: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host spelling stands for, the way the resolver reads it: `[::1]`, `::1%lo`,
    `0:0:0:0:0:0:0:1`, `::ffff:127.0.0.1` (IPv4-mapped: the IPv4 address), and the legacy IPv4
    forms getaddrinfo accepts (`127.1`, `0x7f000001`, `2130706433`). None for a name."""
    if not host:
        return None
    text = host.strip().strip("[]").partition("%")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        if not _LEGACY_IPV4.fullmatch(text):
            return None
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_loopback(host: str | None, *, destination: bool = False) -> bool:
    """Whether `host` is this machine's loopback, in any spelling: `localhost` (and `x.localhost`,
    RFC 6761 §6.3), 127.0.0.0/8, ::1, IPv4-mapped loopback. With `destination` (where packets are
    sent: a target URL, a remote candidate), the unspecified address (0.0.0.0, ::) counts too, since
    connecting to it reaches this host; as a bind address it means every interface, so it does not."""
    if not host:
        return False
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    address = host_address(host)
    if address is None:
        return False
    return address.is_loopback or (destination and address.is_unspecified)


def is_loopback_url(url: str) -> bool:
    """Whether a target URL's packets stay on this host."""
    try:
        return is_loopback(urlsplit(url).hostname, destination=True)
    except ValueError:
        return False


def _loopback_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    return (["127.0.0.1"] if use_ipv4 else []) + (["::1"] if use_ipv6 else [])


def _loopback_checks_only(self: aioice.ice.Connection, message: object, addr: tuple[str, int],
                          protocol: object) -> None:
    """Answer connectivity checks from loopback sources only: a browser also probes from its LAN
    address, and a reply (or a peer-reflexive candidate learned from it) would leave loopback."""
    if is_loopback(addr[0]):
        _original_request_received(self, message, addr, protocol)


def restrict_to_loopback() -> None:
    """From now on, this process gathers loopback host candidates only and answers only loopback
    checks (idempotent; process-wide, since both peers of a local session share the process)."""
    global _restricted
    aioice.ice.get_host_addresses = _loopback_addresses
    aioice.ice.Connection.request_received = _loopback_checks_only
    _restricted = True


def ignored_reason(address: str) -> str | None:
    """Why a remote candidate at `address` is not used, or None when it is."""
    if _restricted and not is_loopback(address, destination=True):
        return LOOPBACK_POLICY
    return None


def loopback_candidates_only(sdp: str) -> str:
    """Drop candidate lines whose address is not loopback (a browser offers its LAN addresses too).

    A media section that lost candidates also loses its `a=end-of-candidates`: what is left is not
    the peer's complete set, and with "no candidates, and no more to come" aioice would fail ICE
    at once — before the peer's own checks, which do arrive on loopback, could form
    peer-reflexive pairs. The ICE phase timeout bounds the wait instead."""
    if not _restricted:
        return sdp
    sections: list[list[str]] = [[]]
    for line in sdp.splitlines(keepends=True):
        if line.startswith("m="):
            sections.append([])
        sections[-1].append(line)
    out: list[str] = []
    for section in sections:
        kept = [line for line in section if not _ignored_line(line)]
        if len(kept) < len(section):
            kept = [line for line in kept if line.rstrip("\r\n") != "a=end-of-candidates"]
        out += kept
    return "".join(out)


def _ignored_line(line: str) -> bool:
    if not line.startswith("a=candidate:"):
        return False
    parts = line.split()
    return len(parts) > 4 and ignored_reason(parts[4]) is not None

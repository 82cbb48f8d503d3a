"""Keep ICE on loopback when both peers are on this machine.

aioice never gathers 127.0.0.1 or ::1, so two peers on one host would meet over a real interface
address. When the other side is on loopback (a `127.0.0.1` target, `rtcprobe serve` on loopback,
the demo, the tests), rtcprobe gathers loopback addresses only and ignores remote candidates that
are not loopback, so no packet leaves the loopback interface.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import aioice.ice

_restricted = False
_original_request_received = aioice.ice.Connection.request_received


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    return is_loopback(urlsplit(url).hostname)


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


def loopback_candidates_only(sdp: str) -> str:
    """Drop candidate lines whose address is not loopback (a browser offers its LAN addresses too)."""
    if not _restricted:
        return sdp
    kept = []
    for line in sdp.splitlines(keepends=True):
        if line.startswith("a=candidate:"):
            parts = line.split()
            if len(parts) > 4 and not is_loopback(parts[4]):
                continue
        kept.append(line)
    return "".join(kept)

"""Rewrite the candidates of the server's answer: add advertised host candidates (the study's sets:
several IPs, UDP 3478 + TCP 443 passive), component-2 copies, drop the real ones or
a=end-of-candidates — so that candidate analyzers and diffs have a live target to look at."""

from __future__ import annotations

import zlib
from dataclasses import replace

from ..sdp import Candidate, compute_priority, parse_candidate
from .config import ServerConfig

#: Host priorities as the studied service wrote them: UDP 2130706431, TCP passive 1671430143.
UDP_PRIORITY = compute_priority(126, 65535, 1)
TCP_PRIORITY = compute_priority(99, 40959, 1)


def advertised_candidates(config: ServerConfig, ufrag: str | None) -> list[Candidate]:
    """Host candidates for every advertised IP: UDP then TCP passive, component 1 (and 2).

    Component-2 copies keep the component-1 priority, as the service in the November 2024 study
    did; the candidate analyzer points that out, which is the point of offering them."""
    out: list[Candidate] = []
    components = (1, 2) if config.rtcp_candidates else (1,)
    for ip in config.advertise_ips:
        for transport, port, priority, tcptype in (
            ("udp", config.advertise_udp_port, UDP_PRIORITY, None),
            ("tcp", config.advertise_tcp_port, TCP_PRIORITY, "passive"),
        ):
            if not port:
                continue
            foundation = str(zlib.crc32(f"host|{transport}|{ip}".encode()))
            for component in components:
                out.append(Candidate(
                    foundation=foundation, component=component, transport=transport,
                    priority=priority, address=ip, port=port, type="host", tcptype=tcptype,
                    ufrag=ufrag,
                ))
    return out


def rewrite_candidates(sdp: str, config: ServerConfig) -> str:
    """The answer with its candidate lines replaced as the config says; other lines untouched.

    The new block (advertised first, then the real candidates unless only_advertised, then
    end-of-candidates when asked) goes where the media section's first candidate was."""
    if not (config.advertise_ips or config.rtcp_candidates or not config.end_of_candidates):
        return sdp
    newline = "\r\n" if "\r\n" in sdp else "\n"
    lines = sdp.split(newline)
    trailing = lines[-1] == ""
    if trailing:
        lines.pop()
    out: list[str] = []
    section: list[str] = []

    def flush() -> None:
        out.extend(_rewrite_section(section, config))
        section.clear()

    for line in lines:
        if line.startswith("m="):
            flush()
        section.append(line)
    flush()
    return newline.join(out) + (newline if trailing else "")


def _rewrite_section(lines: list[str], config: ServerConfig) -> list[str]:
    if not lines or not lines[0].startswith("m="):
        return list(lines)  # the session part: candidates live in media sections
    real = [parse_candidate(line) for line in lines if line.startswith("a=candidate:")]
    positions = [i for i, line in enumerate(lines)
                 if line.startswith("a=candidate:") or line == "a=end-of-candidates"]
    if not positions:
        return list(lines)
    ufrag = next((line.split(":", 1)[1] for line in lines if line.startswith("a=ice-ufrag:")), None)
    block = advertised_candidates(config, ufrag)
    if not config.only_advertised:
        block += real
        if config.rtcp_candidates:
            block += [_component_2(c) for c in real if c.component == 1]
    new_lines = [f"a={c.to_sdp()}" for c in block]
    if config.end_of_candidates:
        new_lines.append("a=end-of-candidates")
    drop = set(positions)
    kept = [line for i, line in enumerate(lines) if i not in drop]
    at = positions[0]
    return kept[:at] + new_lines + kept[at:]


def _component_2(candidate: Candidate) -> Candidate:
    return replace(candidate, component=2)


def corrupt_fingerprints(sdp: str) -> str:
    """Flip every hex digit of the answer's DTLS fingerprints, so the peer's DTLS check must fail."""
    flipped = []
    for line in sdp.splitlines(keepends=True):
        if line.startswith("a=fingerprint:"):
            name, _, rest = line.partition(" ")
            line = name + " " + "".join(f"{15 - int(c, 16):X}" if c in "0123456789ABCDEFabcdef" else c for c in rest)
        flipped.append(line)
    return "".join(flipped)

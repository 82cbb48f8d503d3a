"""The third-party stacks of the interop matrix, as data: how each is started, whether it needs a
network namespace (it gathers no loopback candidates), why it cannot run here when it cannot, and
what it is known to negotiate when it answers the probe's default (Chrome-shaped, audio) WHIP offer.

`known` is what the stack's own source and PEERS.md say it answers, checked against the profile
rows rtcprobe reads from the capture; `sdp_facts` reads the same few facts straight from the text
of the answer the peer itself logged, a second witness independent of rtcprobe's SDP parser.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
WHIP_ANSWERER = HERE / "peers" / "whip_answerer.js"
PION_BINARY = HERE / "build" / "pion-whip"


def _npm_missing(package: str) -> Callable[[], str | None]:
    def reason() -> str | None:
        if shutil.which("node") is None:
            return "node is not installed (Debian package nodejs)"
        if not (NODE_MODULES / package / "package.json").exists():
            return f"npm package {package} is not installed (run interop/install.sh)"
        return None
    return reason


def _janus_missing() -> str | None:
    if shutil.which("janus") is None:
        return "janus is not installed (Debian package janus; interop/install.sh installs it)"
    if not (HERE / "build" / "janus" / "node_modules" / "express").exists():
        return ("simple-whip-server is not unpacked (it cannot be installed next to this nodejs: libnode108 "
                "conflict; interop/install.sh apt-get downloads and dpkg -x it, then installs its npm deps)")
    return None


def _pion_missing() -> str | None:
    if PION_BINARY.exists():
        return None
    if shutil.which("go") is None:
        return "golang-go is not installed (interop/install.sh installs it with golang-github-pion-webrtc.v3-dev)"
    return "the pion WHIP answerer is not built (interop/install.sh builds it offline against /usr/share/gocode)"


@dataclass(frozen=True)
class Expect:
    """One fact of one profile row the stack is known to produce."""

    aspect: str
    key: str
    value: object
    why: str


@dataclass(frozen=True)
class Peer:
    name: str
    stack: str  # what it is and which version line
    command: Callable[[str, int], list[str]]  # (host, port) -> argv of a WHIP answerer at http://host:port/whip
    missing: Callable[[], str | None]  # why it cannot run here, or None
    namespace: bool  # gathers no loopback candidates: run peer and probe in a namespace of our own
    known: tuple[Expect, ...] = field(default=())
    relay: bool = False  # the probe connects through coturn on 127.0.0.1, relay-only
    path: str = "/whip"  # the WHIP endpoint's path on http://host:port


def _node(stack: str) -> Callable[[str, int], list[str]]:
    return lambda host, port: ["node", str(WHIP_ANSWERER), stack, host, str(port)]


ANSWERERS: tuple[Peer, ...] = (
    Peer("libwebrtc", "libwebrtc via npm @roamhq/wrtc 0.10", _node("libwebrtc"), _npm_missing("@roamhq/wrtc"),
         namespace=False, known=(
             Expect("ICE/TURN", "ice_lite", False, "a full ICE agent"),
             Expect("ICE/TURN", "ice_options", ["trickle"], "libwebrtc always offers trickle"),
             Expect("RTCP", "transport_cc", True, "answers transport-cc for Opus"),
             Expect("Audio", "red", True, "answers RED for Opus (M96+)"),
             Expect("Audio", "direction", "recvonly", "a publisher's endpoint receives only"),
             Expect("SRTP encryption", "fingerprint_algorithms", ["sha-256"], "one sha-256 fingerprint"),
         )),
    Peer("werift", "werift 0.24 (TypeScript), npm", _node("werift"), _npm_missing("werift"),
         namespace=True, known=(
             Expect("Audio", "codecs", ["Opus", "PCMU"], "werift's default audio codecs"),
             Expect("RTP header extensions", "by_extension", {}, "no audio header extensions configured by default"),
             Expect("RTCP", "transport_cc", True, "rtcp-fb transport-cc on Opus"),
             Expect("Audio", "direction", "recvonly", "no track added: receives only"),
         )),
    Peer("libdatachannel", "libdatachannel via npm node-datachannel 0.33", _node("libdatachannel"),
         _npm_missing("node-datachannel"), namespace=True, known=(
             Expect("ICE/TURN", "ice_options", ["ice2", "trickle"], "libjuice's a=ice-options:ice2,trickle"),
             Expect("Audio", "codecs", ["Opus"], "only the codec the answerer's track declares"),
             Expect("Audio", "direction", "recvonly", "the track is declared RecvOnly"),
             Expect("PeerConnection", "other_groups", [{"semantics": "LS", "mids": ["0"]}], "libdatachannel adds a=group:LS"),
         )),
    Peer("coturn", "coturn (Debian) as the probe's TURN server, relay-only, to the libwebrtc answerer",
         _node("libwebrtc"), lambda: _npm_missing("@roamhq/wrtc")() or (
             None if shutil.which("turnserver") else "coturn's turnserver is not installed (Debian package coturn)"),
         namespace=False, relay=True, known=(
             Expect("RTCP", "transport_cc", True, "the libwebrtc answerer behind the relay"),
         )),
    Peer("pion", "pion/webrtc v3 (Go), Debian golang-github-pion-webrtc.v3-dev",
         lambda host, port: [str(PION_BINARY), host, str(port)], _pion_missing, namespace=True, known=(
             Expect("ICE/TURN", "ice_lite", False, "a full ICE agent by default"),
             Expect("Audio", "direction", "recvonly", "a recvonly transceiver"),
             Expect("SRTP encryption", "fingerprint_algorithms", ["sha-256"], "one sha-256 fingerprint"),
             Expect("RTCP", "rtcp_rsize", True, "pion answers a=rtcp-rsize"),
             Expect("RTCP", "transport_cc", True, "pion's default interceptors register transport-cc"),
         )),
)


# -- the second witness: a few facts read from the answer's text with plain string matching --

def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _audio_section(sdp: str) -> str:
    match = re.search(r"^m=audio .*?(?=^m=|\Z)", sdp, re.M | re.S)
    return match.group(0) if match else ""


def sdp_facts(sdp: str) -> dict[tuple[str, str], object]:
    """(aspect, key) -> value, for the facts that can be read without an SDP parser."""
    audio = _audio_section(sdp)
    options = [o for line in re.findall(r"^a=ice-options:(.*)$", sdp, re.M) for o in line.strip().split()]
    options = [o for chunk in options for o in chunk.split(",")]
    direction = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", audio, re.M)
    return {
        ("ICE/TURN", "ice_lite"): "a=ice-lite" in sdp,
        ("ICE/TURN", "ice_options"): sorted(set(options)),
        ("SRTP encryption", "fingerprint_algorithms"): sorted(set(re.findall(r"^a=fingerprint:(\S+)", sdp, re.M))),
        ("RTCP", "transport_cc"): bool(re.search(r"^a=rtcp-fb:\S+ transport-cc", sdp, re.M)),
        ("Audio", "direction"): direction.group(1) if direction else "sendrecv",
        ("Audio", "codecs"): sorted({_norm(n) for n in re.findall(r"^a=rtpmap:\d+ ([^/\s]+)", audio, re.M)}),
        ("RTP header extensions", "any"): bool(re.search(r"^a=extmap:", sdp, re.M)),
    }


def profile_facts(rows: list[dict]) -> dict[tuple[str, str], object]:
    """The same facts as `sdp_facts`, taken from rtcprobe's profile rows (capture --json)."""
    facts = {row["aspect"]: row["facts"] for row in rows}
    ice, audio = facts.get("ICE/TURN", {}), facts.get("Audio", {})
    return {
        ("ICE/TURN", "ice_lite"): ice.get("ice_lite"),
        ("ICE/TURN", "ice_options"): sorted(set(ice.get("ice_options", []))),
        ("SRTP encryption", "fingerprint_algorithms"): sorted(set(facts.get("SRTP encryption", {}).get(
            "fingerprint_algorithms", []))),
        ("RTCP", "transport_cc"): facts.get("RTCP", {}).get("transport_cc"),
        ("Audio", "direction"): audio.get("direction"),
        ("Audio", "codecs"): sorted({_norm(c) for c in audio.get("codecs", [])}),
        ("RTP header extensions", "any"): bool(facts.get("RTP header extensions", {}).get("by_extension")),
    }


def profile_mismatches(peer: Peer, rows: list[dict], answer_sdp: str | None) -> list[str]:
    """Each way the profile disagrees with what the stack is known to answer or with the answer
    the stack itself logged; empty when the profile is read right."""
    facts = {row["aspect"]: row["facts"] for row in rows}
    wrong = [f"{e.aspect}.{e.key} = {facts.get(e.aspect, {}).get(e.key)!r}, expected {e.value!r} ({e.why})"
             for e in peer.known if facts.get(e.aspect, {}).get(e.key) != e.value]
    if answer_sdp:
        read, witnessed = profile_facts(rows), sdp_facts(answer_sdp)
        wrong += [f"{a}.{k} = {read[(a, k)]!r}, the peer's own answer says {v!r}"
                  for (a, k), v in witnessed.items() if read[(a, k)] != v]
    return wrong


JANUS = Peer("janus", "Janus (Debian) VideoRoom behind Meetecho simple-whip-server",
              lambda host, port: [str(HERE / "peers" / "janus_whip.sh"), host, str(port)], _janus_missing,
              namespace=True, path="/whip/endpoint/interop", known=(
                  Expect("Audio", "codecs", ["Opus"], "room 1234's audiocodec is opus"),
                  Expect("Audio", "direction", "recvonly", "a VideoRoom publisher's answer receives only"),
                  Expect("ICE/TURN", "ice_lite", False, "full ICE unless ice_lite is set in janus.jcfg"),
              ))
ANSWERERS = (*ANSWERERS, JANUS)


#: Stacks of issue 15 the matrix lists but does not run yet, each with why (name, stack, reason).
CLIENTS_NOT_RUN: tuple[tuple[str, str, str], ...] = (
)

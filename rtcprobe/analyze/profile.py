"""The profile: the study's nine-row table, each row a sentence plus the facts behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..negotiation import Negotiation
from ..sdp import MediaSection, SessionDescription
from ..sdp.codecs import CODEC_DISPLAY
from ..sdp.extensions import display_name
from .candidates import candidate_set
from .interface import describe_interface
from .words import join_words

ASPECTS = ("PeerConnection", "ICE/TURN", "SRTP encryption", "Audio", "Video", "DataChannels",
           "RTP header extensions", "RTCP", "Interface")


@dataclass
class ProfileRow:
    aspect: str
    summary: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Profile:
    """What a session does. `dropped` lists what the offer proposed and the answer did not keep."""

    source: str
    described: str  # "negotiated" (offer + answer), "offer" or "answer"
    rows: list[ProfileRow]
    dropped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def row(self, aspect: str) -> ProfileRow:
        return next(r for r in self.rows if r.aspect == aspect)


def _live(description: SessionDescription) -> list[MediaSection]:
    return [m for m in description.media if not m.rejected]


def _peerconnection(d: SessionDescription) -> ProfileRow:
    live = _live(d)
    mids = [m.mid for m in live]
    groups = [list(g.mids) for g in d.bundle_groups]
    if d.fragment:
        summary = "unknown (candidate lines only)"
    elif not live:
        summary = "no media sections" + (" (a BUNDLE group names mids that are not there)" if groups else "")
    elif len(groups) == 1 and set(mids) <= set(groups[0]):
        summary = "a single PeerConnection using BUNDLE"
    elif groups:
        outside = [m for m in mids if not any(m in g for g in groups)]
        summary = f"a single PeerConnection with {len(groups)} BUNDLE group(s); outside BUNDLE: {', '.join(map(str, outside)) or 'none'}"
    else:
        summary = f"a single PeerConnection without BUNDLE ({len(live)} transports)"
    return ProfileRow("PeerConnection", summary, {
        "bundle_groups": groups, "mids": mids,
        "rtcp_mux": all(m.rtcp_mux for m in live if m.kind in ("audio", "video")) if live else None,
        "rejected_mids": [m.mid for m in d.media if m.rejected]})


def _ice(d: SessionDescription) -> ProfileRow:
    cs = candidate_set(d)
    types = set(cs.types)
    if not types:
        summary = "no candidates in the description (trickled separately, or none)"
    elif types == {"host"}:
        summary = "host candidates only (no STUN or TURN server)"
    else:
        parts = [{"host": "host", "srflx": "server-reflexive (STUN)", "prflx": "peer-reflexive",
                  "relay": "relay (TURN)"}[t] for t in ("host", "srflx", "prflx", "relay") if t in types]
        summary = f"{join_words(parts)} candidates"
        if "relay" not in types:
            summary += " (no TURN)"
    if d.ice_lite:
        summary += "; ICE-lite"
    options = sorted({o for m in d.media for o in m.ice_options})
    return ProfileRow("ICE/TURN", summary, {
        "candidate_types": cs.types, "transports": cs.transports, "addresses": cs.addresses,
        "ice_lite": d.ice_lite, "ice_options": options, "end_of_candidates": cs.end_of_candidates})


def _simulcast_layers(m: MediaSection) -> int:
    """Layers sent: `a=simulcast:send q;h;f` (alternatives `q,h` count once), else send rids,
    else the SSRCs of an `ssrc-group:SIM` (RFC 8853; Chromium's SDP munging form)."""
    words = (m.simulcast or "").split()
    for direction, streams in zip(words[::2], words[1::2], strict=False):
        if direction == "send":
            return len(streams.split(";"))
    send_rids = [r for r in m.rids if r.direction == "send"]
    if send_rids:
        return len(send_rids)
    return max((len(g.ssrcs) for g in m.ssrc_groups if g.semantics == "SIM"), default=len(m.rids))


def _srtp(d: SessionDescription) -> ProfileRow:
    rtp = [m for m in _live(d) if "RTP" in m.protocol.upper()] or _live(d)
    fingerprints = sorted({f.algorithm for m in rtp for f in m.fingerprints})
    setups = sorted({m.setup for m in rtp if m.setup})
    if rtp and all(m.fingerprints and "SAVP" in m.protocol.upper() for m in rtp):
        summary = "standard DTLS-SRTP"
    elif any(m.crypto for m in rtp):
        summary = "SDES-SRTP (keys in the SDP, no DTLS)"
    elif rtp and all("SAVP" not in m.protocol.upper() for m in rtp):
        summary = "none: plain RTP"
    elif rtp and any(m.fingerprints and "SAVP" in m.protocol.upper() for m in rtp):
        plain = [str(m.label) for m in rtp if "SAVP" not in m.protocol.upper()]
        summary = f"mixed: DTLS-SRTP, but plain RTP on {', '.join(plain)}" if plain else "unknown (no fingerprint)"
    else:
        summary = "unknown (no fingerprint)" if rtp else "no RTP media"
    return ProfileRow("SRTP encryption", summary, {
        "protocols": sorted({m.protocol for m in rtp}), "fingerprint_algorithms": fingerprints, "setup": setups})


def _audio(d: SessionDescription) -> ProfileRow:
    sections = [m for m in d.media_of_kind("audio")]
    if not sections:
        return ProfileRow("Audio", "none", {})
    if all(m.rejected for m in sections):
        return ProfileRow("Audio", "offered but rejected", {})
    m = next(s for s in sections if not s.rejected)
    media = m.media_codecs
    codecs = [c for c in m.codecs]
    names = list(dict.fromkeys(c.display_name for c in media))
    opus = next((c.opus for c in media if c.opus), None)
    has_red = any(c.role == "red" for c in codecs)
    has_dtmf = any(c.role == "dtmf" for c in codecs)
    if not names:
        summary = "no codecs"
    else:
        head = names[0]
        features = []
        if opus and names[0] == "Opus":
            features = [f for f, on in (("in-band FEC", opus.inband_fec), ("DTX", opus.dtx),
                                        ("stereo", opus.stereo)) if on]
        if has_red:
            features.append("RED")
        summary = head + (f" with {join_words(features)}" if features else "")
        if names[1:]:
            summary += f", {'/'.join(names[1:])} fallback"
        negatives = [n for n, on in (("DTX", opus.dtx if opus else True), ("RED", has_red)) if not on]
        if has_dtmf:
            summary += ", DTMF"
        if negatives:
            summary += "; " + ", ".join(f"no {n}" for n in negatives)
    if m.direction != "sendrecv":
        summary += f" ({m.direction})"
    return ProfileRow("Audio", summary, {
        "codecs": [c.label for c in codecs], "direction": m.direction,
        "opus": vars(opus) if opus else None, "red": has_red, "dtmf": has_dtmf, "ptime": m.ptime})


def _video(d: SessionDescription) -> ProfileRow:
    sections = d.media_of_kind("video")
    if not sections:
        return ProfileRow("Video", "none", {})
    if all(m.rejected for m in sections):
        return ProfileRow("Video", "offered but rejected", {})
    m = next(s for s in sections if not s.rejected)
    names = list(dict.fromkeys(c.display_name for c in m.media_codecs))
    simulcast = bool(m.simulcast) or any(g.semantics == "SIM" for g in m.ssrc_groups)
    rtx = any(c.role == "rtx" for c in m.codecs)
    fec = sorted({c.display_name for c in m.codecs if c.role in ("fec", "red")})
    head = f"{names[0]} only" if len(names) == 1 else ", ".join(names) or "no codecs"
    parts = [head, f"simulcast ({_simulcast_layers(m)} layers)" if simulcast else "no simulcast",
             "RTX" if rtx else "no RTX"] + fec
    summary = ", ".join(parts)
    profiles = list(dict.fromkeys(c.h264.profile for c in m.media_codecs if c.h264))
    if profiles:
        summary += f"; profiles {', '.join(profiles)}"
    if m.direction != "sendrecv":
        summary += f" ({m.direction})"
    return ProfileRow("Video", summary, {
        "codecs": [c.label for c in m.codecs], "direction": m.direction, "simulcast": simulcast,
        "rids": [r.id for r in m.rids], "rtx": rtx, "h264_profiles": profiles})


def _datachannels(d: SessionDescription) -> ProfileRow:
    sections = [m for m in d.media if m.kind == "application"]
    if not sections:
        return ProfileRow("DataChannels", "none", {})
    m = sections[0]
    if m.rejected:
        return ProfileRow("DataChannels", "offered but rejected", {})
    proto = m.protocol.upper()
    if proto in ("UDP/DTLS/SCTP", "TCP/DTLS/SCTP") and "webrtc-datachannel" in m.formats:
        summary = "standard SCTP over DTLS"
    elif proto == "DTLS/SCTP":
        summary = "SCTP over DTLS (legacy sctpmap syntax)"
    else:
        summary = f"non-standard ({m.protocol} {' '.join(m.formats)})"
    return ProfileRow("DataChannels", summary, {
        "protocol": m.protocol, "sctp_port": m.sctp_port, "max_message_size": m.max_message_size})


def _extensions(d: SessionDescription) -> ProfileRow:
    kinds: dict[str, list[str]] = {}
    for m in _live(d):
        if m.kind in ("audio", "video"):
            for ext in m.extensions:
                kinds.setdefault(ext.name, [])
                if m.kind not in kinds[ext.name]:
                    kinds[ext.name].append(m.kind)
    both = [display_name(n) for n, k in kinds.items() if set(k) == {"audio", "video"}]
    audio = [display_name(n) for n, k in kinds.items() if k == ["audio"]]
    video = [display_name(n) for n, k in kinds.items() if k == ["video"]]
    segments = []
    if both:
        segments.append(f"{', '.join(both)} for audio and video")
    if audio:
        segments.append(f"{', '.join(audio)} for audio")
    if video:
        # Only qualify video when audio-only ones exist too; otherwise the contrast already says it.
        segments.append(", ".join(video) + (" for video" if audio or not both else ""))
    summary = "; ".join(segments) or "none"
    return ProfileRow("RTP header extensions", summary, {"by_extension": kinds})


def _rtcp(d: SessionDescription) -> ProfileRow:
    live = [m for m in _live(d) if m.kind in ("audio", "video")]
    feedback = {fb for m in live for c in m.codecs for fb in c.rtcp_fb}
    twcc = "transport-cc" in feedback
    remb = "goog-remb" in feedback
    rtx = any(c.role == "rtx" for m in live for c in m.codecs)
    present = {"NACK": "nack" in feedback, "PLI": "nack pli" in feedback, "FIR": "ccm fir" in feedback}
    bwe = [n for n, on in (("transport-cc", twcc), ("REMB", remb)) if on]
    summary = f"bandwidth estimation with {join_words(bwe)}" if bwe else "no bandwidth-estimation feedback"
    have = [n for n, on in present.items() if on]
    missing = [n for n, on in list(present.items()) + [("REMB", remb), ("RTX", rtx)] if not on]
    if have:
        summary += f"; {join_words(have)}"
    if missing:
        summary += f" (no {join_words(missing, 'or')})"
    return ProfileRow("RTCP", summary, {
        "feedback": sorted(feedback), "transport_cc": twcc, "remb": remb, "rtx": rtx,
        "rtcp_rsize": all(m.rtcp_rsize for m in live) if live else None})


def _dropped(offer: SessionDescription, answer: SessionDescription) -> list[str]:
    """What the offer proposed that the answer turned down, m-line by m-line."""
    out = []
    for om in offer.media:
        am = answer.section(om.mid) if om.mid is not None else None
        if am is None and om.index < len(answer.media):
            am = answer.media[om.index]
        if am is None or am.rejected:
            out.append(f"{om.label}: m-line rejected")
            continue
        answered = {c.identity for c in am.codecs}
        gone = [c.label for c in om.codecs if c.identity not in answered and c.role != "rtx"]
        if any(c.role == "rtx" for c in om.codecs) and not any(c.role == "rtx" for c in am.codecs):
            gone.append("RTX")
        if gone:
            out.append(f"{om.label}: codecs {', '.join(dict.fromkeys(gone))}")
        uris = {e.uri for e in am.extensions}
        ext_gone = [e.name for e in om.extensions if e.uri not in uris]
        if ext_gone:
            out.append(f"{om.label}: header extensions {', '.join(ext_gone)}")
        fb_answered = {fb for c in am.codecs for fb in c.rtcp_fb}
        fb_gone = sorted({fb for c in om.codecs for fb in c.rtcp_fb} - fb_answered)
        if fb_gone and am.kind != "application":
            out.append(f"{om.label}: rtcp-fb {', '.join(fb_gone)}")
    return out


def profile(negotiation: Negotiation) -> Profile:
    """Profile the negotiated session (the answer, when there is one) and what the answer dropped."""
    d = negotiation.primary
    rows = [_peerconnection(d), _ice(d), _srtp(d), _audio(d), _video(d), _datachannels(d),
            _extensions(d), _rtcp(d)]
    interface = describe_interface(negotiation.http, negotiation.protocol)
    if interface:
        rows.append(ProfileRow("Interface", interface[0], interface[1]))
    described = "negotiated" if negotiation.offer and negotiation.answer else (d.type or "description")
    dropped = _dropped(negotiation.offer, negotiation.answer) if negotiation.offer and negotiation.answer else []
    return Profile(negotiation.source, described, rows, dropped, negotiation.warnings)


__all__ = ["ASPECTS", "CODEC_DISPLAY", "Profile", "ProfileRow", "profile"]

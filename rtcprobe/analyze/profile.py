"""The profile: the study's nine-row table, each row a sentence plus the facts behind it.

It describes the whole session: every m-line of each kind (`profile_media`), what both sides
agreed to (feedback and extensions the answer added unasked are findings, not features), and,
for a session negotiated more than once, the last applied round (`Negotiation.at_round`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..negotiation import Negotiation
from ..sdp import MediaSection, SessionDescription
from ..sdp.codecs import CODEC_DISPLAY
from .candidates import candidate_set
from .interface import describe_interface
from .profile_media import (
    describe_audio,
    describe_video,
    extensions_summary,
    per_kind,
    rtcp_summary,
    unasked,
)
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
    """What a session does. `dropped` lists what the offer proposed and the answer did not keep;
    `added` what the answer listed that the offer never proposed (not in use, but telling)."""

    source: str
    described: str  # "negotiated" (offer + answer), "offer" or "answer"
    rows: list[ProfileRow]
    dropped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    round: int | None = None  # the offer/answer round described, when the session had several
    rounds: int = 1

    def row(self, aspect: str) -> ProfileRow:
        return next(r for r in self.rows if r.aspect == aspect)


def _live(description: SessionDescription) -> list[MediaSection]:
    return [m for m in description.media if not m.rejected]


#: What the `a=group` semantics other than BUNDLE mean (RFC 5888, RFC 5956, RFC 8843).
GROUP_NAMES = {"LS": "lip-sync", "FID": "flow identification", "FEC": "forward error correction",
               "FEC-FR": "FEC framework", "SRF": "single reservation flow", "DDP": "decoding dependency"}


def _port_zero(d: SessionDescription) -> str:
    """Every m-line has port 0: which are turned down and which ride on a BUNDLE transport."""
    rejected = [m.label for m in d.media if m.rejected]
    bundle_only = [m.label for m in d.media if m.bundle_only]
    parts = ([f"rejected: {', '.join(rejected)}"] if rejected else []) + (
        [f"bundle-only: {', '.join(bundle_only)}"] if bundle_only else [])
    if not bundle_only:
        return f"no media in use: every m-line is rejected (port 0): {', '.join(rejected)}"
    return f"every m-line has port 0 ({'; '.join(parts)}), so none carries a transport"


def _peerconnection(d: SessionDescription) -> ProfileRow:
    live = _live(d)
    mids = [m.mid for m in live]
    groups = [list(g.mids) for g in d.bundle_groups]
    others = [g for g in d.groups if g.semantics.upper() != "BUNDLE"]
    if d.fragment:
        summary = "unknown (candidate lines only)"
    elif d.media and all(m.port == 0 for m in d.media):
        summary = _port_zero(d)
    elif not live:
        summary = "no media sections" + (" (a BUNDLE group names mids that are not there)" if groups else "")
    elif len(groups) == 1 and set(mids) <= set(groups[0]):
        summary = "a single PeerConnection using BUNDLE"
    elif groups:
        outside = [m for m in mids if not any(m in g for g in groups)]
        summary = f"a single PeerConnection with {len(groups)} BUNDLE group(s); outside BUNDLE: {', '.join(map(str, outside)) or 'none'}"
    else:
        summary = f"a single PeerConnection without BUNDLE ({len(live)} transports)"
    for g in others:
        meaning = GROUP_NAMES.get(g.semantics.upper())
        summary += f"; {g.semantics} group{f' ({meaning})' if meaning else ''} of mids {', '.join(g.mids)}"
    return ProfileRow("PeerConnection", summary, {
        "bundle_groups": groups, "mids": mids,
        "other_groups": [{"semantics": g.semantics, "mids": list(g.mids)} for g in others],
        "rtcp_mux": all(m.rtcp_mux for m in live if m.kind in ("audio", "video")) if live else None,
        "rejected_mids": [m.mid for m in d.media if m.rejected],
        "bundle_only_mids": [m.mid for m in d.media if m.bundle_only]})


def _far_end(negotiation: Negotiation, d: SessionDescription) -> tuple[SessionDescription, str]:
    """Whose candidates the ICE row describes: the remote side's when the record says which side was
    ours (a browser answering a server's offer: the offer), else the answer's, or the offer's when
    only the offer has any."""
    offer, answer = negotiation.offer, negotiation.answer
    if offer is not None and answer is not None and (
            negotiation.local == "answer" or negotiation.local is None and not answer.candidates and offer.candidates):
        return offer, "offer"  # unknown sides: the answer has none to describe, the offer has
    return d, "answer" if d is answer else (d.type or "description")


def _ice(negotiation: Negotiation, d: SessionDescription) -> ProfileRow:
    described, side = _far_end(negotiation, d)
    cs = candidate_set(described)
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
    if described.ice_lite:
        summary += "; ICE-lite"
    if described is not d and negotiation.local == "answer":
        summary = f"the remote offer's: {summary}"
    elif described is not d:
        summary = f"the offer's: {summary}; the answer has none (trickled separately, or none)"
    options = sorted({o for m in described.media for o in m.ice_options})
    return ProfileRow("ICE/TURN", summary, {
        "side": side, "candidate_types": cs.types, "transports": cs.transports, "addresses": cs.addresses,
        "ice_lite": described.ice_lite, "ice_options": options, "end_of_candidates": cs.end_of_candidates})


def _srtp(d: SessionDescription, offer: SessionDescription | None) -> ProfileRow:
    """How media is encrypted. An offer may propose SDES keys (a=crypto) next to a DTLS fingerprint;
    the answer then says which one was picked."""
    live = _live(d)
    rtp = [m for m in live if "RTP" in m.protocol.upper()]
    fingerprints = sorted({f.algorithm for m in live for f in m.fingerprints})
    setups = sorted({m.setup for m in live if m.setup})
    facts = {"protocols": sorted({m.protocol for m in rtp or live}), "fingerprint_algorithms": fingerprints,
             "setup": setups, "sdes": any(m.crypto for m in rtp)}
    if not rtp:
        if any(m.is_datachannel for m in live):
            dtls = all(m.fingerprints for m in live if m.is_datachannel)
            summary = ("no RTP: DTLS only (SCTP over DTLS for the data channel)" if dtls
                       else "no RTP; no DTLS fingerprint for the data channel")
        else:
            summary = "no RTP media"
        return ProfileRow("SRTP encryption", summary, facts)
    offered = [m for m in (offer.media if offer and offer is not d else []) if "RTP" in m.protocol.upper()]
    offer_sdes, offer_dtls = any(m.crypto for m in offered), any(m.fingerprints for m in offered)
    sdes = any(m.crypto for m in rtp)
    if all(m.fingerprints and "SAVP" in m.protocol.upper() for m in rtp):
        summary = "standard DTLS-SRTP"
        if sdes:
            summary += ", SDES keys (a=crypto) offered alongside" if d.type != "answer" else \
                ", the answer also carries SDES keys (a=crypto)"
        elif offer_sdes:
            summary += " (the offer also proposed SDES keys, a=crypto; the answer picked DTLS-SRTP)"
    elif sdes:
        summary = "SDES-SRTP (keys in the SDP, no DTLS)"
        if offer_dtls:
            summary += "; the offer also proposed DTLS-SRTP, the answer picked SDES"
    elif all("SAVP" not in m.protocol.upper() for m in rtp):
        summary = "none: plain RTP"
    elif any(m.fingerprints and "SAVP" in m.protocol.upper() for m in rtp):
        plain = [str(m.label) for m in rtp if "SAVP" not in m.protocol.upper()]
        summary = f"mixed: DTLS-SRTP, but plain RTP on {', '.join(plain)}" if plain else "unknown (no fingerprint)"
    else:
        summary = "unknown (no fingerprint)"
    return ProfileRow("SRTP encryption", summary, facts)


def _datachannels(d: SessionDescription) -> ProfileRow:
    sections = [m for m in d.media if m.kind == "application"]
    if not sections:
        return ProfileRow("DataChannels", "none", {})
    live = [m for m in sections if not m.rejected]
    if not live:
        return ProfileRow("DataChannels", "offered but rejected", {})
    m = live[0]
    proto = m.protocol.upper()
    if proto in ("UDP/DTLS/SCTP", "TCP/DTLS/SCTP") and "webrtc-datachannel" in m.formats:
        summary = "standard SCTP over DTLS"
    elif proto == "DTLS/SCTP":
        summary = "SCTP over DTLS (legacy sctpmap syntax)"
    else:
        summary = f"non-standard ({m.protocol} {' '.join(m.formats)})"
    return ProfileRow("DataChannels", summary, {
        "protocol": m.protocol, "sctp_port": m.sctp_port, "max_message_size": m.max_message_size})


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
    """Profile the negotiated session (the answer, when there is one) and what the answer dropped
    or added; a renegotiated session is described from `negotiation`'s round (the last applied)."""
    d = negotiation.primary
    both = negotiation.offer is not None and negotiation.answer is not None
    offer = negotiation.offer if both else None  # feedback and extensions in use are those both listed
    rows = [_peerconnection(d), _ice(negotiation, d), _srtp(d, offer),
            ProfileRow("Audio", *per_kind(d.media_of_kind("audio"), describe_audio)),
            ProfileRow("Video", *per_kind(d.media_of_kind("video"), describe_video)),
            _datachannels(d),
            ProfileRow("RTP header extensions", *extensions_summary(d, offer)),
            ProfileRow("RTCP", *rtcp_summary(d, offer))]
    interface = describe_interface(negotiation.http, negotiation.protocol)
    if interface:
        rows.append(ProfileRow("Interface", interface[0], interface[1]))
    described = "negotiated" if both else (d.type or "description")
    dropped = _dropped(negotiation.offer, negotiation.answer) if both else []
    added = unasked(negotiation.offer, negotiation.answer) if both else []
    several = negotiation.round_count > 1
    return Profile(negotiation.source, described, rows, dropped, negotiation.warnings, added,
                   round=negotiation.round if several else None, rounds=negotiation.round_count)


__all__ = ["ASPECTS", "CODEC_DISPLAY", "Profile", "ProfileRow", "profile"]

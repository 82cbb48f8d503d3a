"""The profile's media rows (Audio, Video, RTP header extensions, RTCP), read across every m-line.

A session may carry several audio or video m-lines (simulcast on one, a second transceiver
recvonly, one per participant): each kind is described across all of them, by mid when they
differ. Feedback and header extensions are *negotiated* only when both sides list them: what
an answer lists that the offer did not ask for is not in use (RFC 4585 §4.2, RFC 8285 §6), and
is reported apart (`unasked`), since an answerer that adds them is a fact worth knowing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..sdp import Codec, HeaderExtension, MediaSection, SessionDescription
from ..sdp.extensions import display_name
from .words import join_words

#: (summary, facts) of one m-line, direction left out.
Described = tuple[str, dict[str, Any]]


def where(m: MediaSection) -> str:
    return f"mid {m.mid}" if m.mid is not None else f"m-line {m.index}"


def offered_section(offer: SessionDescription | None, answered: MediaSection) -> MediaSection | None:
    """The offer's m-line that an answer's m-line answers: the same mid, else the same position."""
    if offer is None:
        return None
    if answered.mid is not None and (same := offer.section(answered.mid)) is not None:
        return same
    return offer.media[answered.index] if answered.index < len(offer.media) else None


def offered_codec(codec: Codec, offered: MediaSection) -> Codec | None:
    """The offered codec an answered one agrees to: same payload type and name, else same identity."""
    same = offered.codec(codec.payload_type)
    if same is not None and same.name.lower() == codec.name.lower():
        return same
    return next((c for c in offered.codecs if c.identity == codec.identity), None)


def _feedback_key(feedback: str) -> str:
    """rtcp-fb compared by type and subtype (`trr-int 100` is the type `trr-int`)."""
    words = feedback.lower().split()
    return words[0] if words and words[0] == "trr-int" else " ".join(words)


def negotiated_feedback(codec: Codec, offered: MediaSection | None) -> list[str]:
    """The codec's rtcp-fb that the offer listed too (all of them when there is no offer to check)."""
    if offered is None:
        return list(codec.rtcp_fb)
    asked = offered_codec(codec, offered)
    keys = {_feedback_key(f) for f in asked.rtcp_fb} if asked else set()
    return [f for f in codec.rtcp_fb if _feedback_key(f) in keys]


def negotiated_extensions(section: MediaSection, offered: MediaSection | None) -> list[HeaderExtension]:
    """The m-line's header extensions whose URI the offer listed too (RFC 8285 §6)."""
    if offered is None:
        return list(section.extensions)
    uris = {e.uri for e in offered.extensions}
    return [e for e in section.extensions if e.uri in uris]


def unasked(offer: SessionDescription, answer: SessionDescription) -> list[str]:
    """What the answer lists that its offer never proposed: header extensions, rtcp-fb per codec."""
    out = []
    for am in answer.media:
        om = offered_section(offer, am)
        if am.rejected or am.kind not in ("audio", "video") or om is None or om.rejected:
            continue
        uris = {e.uri for e in om.extensions}
        extensions = [e.name for e in am.extensions if e.uri not in uris]
        if extensions:
            out.append(f"{am.label}: header extensions {', '.join(dict.fromkeys(extensions))}")
        added: dict[str, list[str]] = {}
        for codec in am.codecs:
            asked = offered_codec(codec, om)
            if asked is None:
                continue  # a codec the offer did not have: not a feedback question
            keys = {_feedback_key(f) for f in asked.rtcp_fb}
            for feedback in codec.rtcp_fb:
                if _feedback_key(feedback) not in keys:
                    added.setdefault(feedback, [])
                    if codec.display_name not in added[feedback]:
                        added[feedback].append(codec.display_name)
        if added:
            codecs = list(dict.fromkeys(c for cs in added.values() for c in cs))
            out.append(f"{am.label}: rtcp-fb {', '.join(added)} (on {', '.join(codecs)})")
    return out


def _on(direction: str, sections: list[MediaSection]) -> str:
    """`recvonly on mid 3`, `sendrecv on mids 1 and 2`."""
    if len(sections) == 1:
        return f"{direction} on {where(sections[0])}"
    named = all(m.mid is not None for m in sections)
    ids = [str(m.mid if named else m.index) for m in sections]
    return f"{direction} on {'mids' if named else 'm-lines'} {join_words(ids)}"


def per_kind(sections: list[MediaSection], describe: Callable[[MediaSection], Described]) -> Described:
    """One row over every m-line of a kind: one summary when they agree, else one per mid."""
    if not sections:
        return "none", {}
    live = [m for m in sections if not m.rejected]
    rejected = [where(m) for m in sections if m.rejected]
    if not live:
        return "offered but rejected", {"rejected_mids": [m.mid for m in sections]}
    described = [(m, *describe(m)) for m in live]
    summaries = list(dict.fromkeys(s for _, s, _ in described))
    directions = list(dict.fromkeys(m.direction for m in live))
    if len(summaries) == 1:
        summary = summaries[0]
        if len(directions) == 1 and directions[0] != "sendrecv":
            summary += f" ({directions[0]})"
        elif len(directions) > 1:
            summary += f" ({', '.join(_on(d, [m for m in live if m.direction == d]) for d in directions)})"
    else:
        summary = "; ".join(f"{where(m)}: {s}" + ("" if m.direction == "sendrecv" else f" ({m.direction})")
                            for m, s, _ in described)
    if rejected:
        summary += f"; {join_words(rejected)} rejected"
    facts = {**described[0][2], "direction": live[0].direction, "mids": [m.mid for m in live],
             "directions": {str(m.mid if m.mid is not None else m.index): m.direction for m in live},
             "rejected_mids": [m.mid for m in sections if m.rejected]}
    if len(live) > 1:
        facts["sections"] = [{"mid": m.mid, "direction": m.direction, "summary": s, **f} for m, s, f in described]
    return summary, facts


def describe_audio(m: MediaSection) -> Described:
    media = m.media_codecs
    codecs = list(m.codecs)
    names = list(dict.fromkeys(c.display_name for c in media))
    opus = next((c.opus for c in media if c.opus), None)
    has_red = any(c.role == "red" for c in codecs)
    has_dtmf = any(c.role == "dtmf" for c in codecs)
    if not names:
        summary = "no codecs"
    else:
        features = []
        if opus and names[0] == "Opus":
            features = [f for f, on in (("in-band FEC", opus.inband_fec), ("DTX", opus.dtx),
                                        ("stereo", opus.stereo)) if on]
        if has_red:
            features.append("RED")
        summary = names[0] + (f" with {join_words(features)}" if features else "")
        if names[1:]:
            summary += f", {'/'.join(names[1:])} fallback"
        negatives = [n for n, on in (("DTX", opus.dtx if opus else True), ("RED", has_red)) if not on]
        if has_dtmf:
            summary += ", DTMF"
        if negatives:
            summary += "; " + ", ".join(f"no {n}" for n in negatives)
    return summary, {"codecs": [c.label for c in codecs], "opus": vars(opus) if opus else None,
                     "red": has_red, "dtmf": has_dtmf, "ptime": m.ptime}


def simulcast_layers(m: MediaSection) -> int:
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


def describe_video(m: MediaSection) -> Described:
    names = list(dict.fromkeys(c.display_name for c in m.media_codecs))
    simulcast = bool(m.simulcast) or any(g.semantics == "SIM" for g in m.ssrc_groups)
    rtx = any(c.role == "rtx" for c in m.codecs)
    fec = sorted({c.display_name for c in m.codecs if c.role in ("fec", "red")})
    head = f"{names[0]} only" if len(names) == 1 else ", ".join(names) or "no codecs"
    parts = [head, f"simulcast ({simulcast_layers(m)} layers)" if simulcast else "no simulcast",
             "RTX" if rtx else "no RTX"] + fec
    summary = ", ".join(parts)
    profiles = list(dict.fromkeys(c.h264.profile for c in m.media_codecs if c.h264))
    if profiles:
        summary += f"; profiles {', '.join(profiles)}"
    return summary, {"codecs": [c.label for c in m.codecs], "simulcast": simulcast, "rids": [r.id for r in m.rids],
                     "rtx": rtx, "h264_profiles": profiles}


def _rtp_sections(d: SessionDescription) -> list[MediaSection]:
    return [m for m in d.media if not m.rejected and m.kind in ("audio", "video")]


def extensions_summary(d: SessionDescription, offer: SessionDescription | None) -> Described:
    """Header extensions in use (both sides listed them when `offer` is given), by kind."""
    kinds: dict[str, list[str]] = {}
    for m in _rtp_sections(d):
        for ext in negotiated_extensions(m, offered_section(offer, m)):
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
    return "; ".join(segments) or "none", {"by_extension": kinds}


def rtcp_summary(d: SessionDescription, offer: SessionDescription | None) -> Described:
    """RTCP feedback in use (both sides listed it when `offer` is given)."""
    live = _rtp_sections(d)
    feedback: set[str] = set()
    for m in live:
        offered = offered_section(offer, m)
        if offer is None or offered is not None:  # an m-line that answers nothing negotiates nothing
            feedback.update(fb for c in m.codecs for fb in negotiated_feedback(c, offered))
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
    return summary, {"feedback": sorted(feedback), "transport_cc": twcc, "remb": remb, "rtx": rtx,
                     "rtcp_rsize": all(m.rtcp_rsize for m in live) if live else None}

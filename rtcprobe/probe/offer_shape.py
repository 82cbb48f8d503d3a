"""Offers that look like a browser's, and answers aiortc can apply.

`shape_offer` sends the service what a browser would offer for the probe's tracks: aiortc's own
offer keeps its transport and identity (ICE ufrag/pwd, fingerprints, setup, mids, msid and ssrc
lines, BUNDLE, candidates) and takes, per m-line, the profile's codecs with their payload types,
rtcp-fb, extmaps, extmap-allow-mixed and rtcp-rsize (rtcprobe.profiles holds the offers).

The service answers that offer, so `adapt_answer` gives aiortc a copy it can apply and send
truthfully under (the recorded answer stays as it came). aiortc matches an answer against its
global codec table (rtcpeerconnection.find_common_codecs): Opus, G.722, PCMU, PCMA, VP8, and H.264
packetization-mode 1 whose profile is (constrained) baseline; header extensions by URI
(find_common_header_extensions: mid, ssrc-audio-level, abs-send-time). So:

- H.264 answered under another profile (Main, High, ...) is shown to aiortc as constrained
  baseline at the same payload type and level: a constrained-baseline stream is valid under every
  H.264 profile (RFC 6184 §8.1: baseline-compatible decoding), so what is sent stays truthful.
- An m-line whose answer holds nothing the probe can encode (VP9, AV1, H.265, H.264 mode 0 only)
  is shown to aiortc as receive-only with a placeholder codec at a payload type the answer does
  not use: no sender runs there, so nothing is ever sent under the answered payload type, and what
  the service sends still arrives and is counted (aiortc cannot decode those codecs either: its
  receiver drops them after the packet taps have seen them).
- RED (RFC 2198) and ULPFEC answered (a browser-shaped offer offers them, and a browser answering
  sends inside them) stay in the text: find_common_codecs keeps only codecs aiortc has, so its
  receiver knows the primary codecs alone, and the stats keep RED's clock rate for jitter;
  red.RedReceiver unwraps each received packet to its primary before aiortc sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..profiles import OfferProfile, load_offer_profile
from ..sdp import MediaSection, SessionDescription, parse_description
from ..sdp.lines import join_section_lines, section_lines

OFFER_PROFILE = "offer_profile"  # event: the profile, its provenance, aiortc's own offer, notes
ANSWER_ADAPTED = "answer_adapted"  # event: what the probe can send per m-line, extension ids, notes

#: (codec name, clock rate) aiortc can encode; H.264 only in packetization mode 1 (FU-A, STAP-A)
ENCODABLE = {("opus", 48000), ("g722", 8000), ("pcmu", 8000), ("pcma", 8000), ("vp8", 90000), ("h264", 90000)}
CAPABILITY_PREFIXES = ("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:", "a=extmap:", "a=rtcp-rsize", "a=extmap-allow-mixed")
CODEC_PREFIXES = ("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:")
H264_CONSTRAINED_BASELINE = "42e0"  # profile_idc 0x42, constraint_set1 (RFC 6184 table 5)
PLACEHOLDER = {"audio": "opus/48000/2", "video": "VP8/90000"}
RECEIVE_ONLY = {"sendrecv": "sendonly", "recvonly": "inactive", "sendonly": "sendonly", "inactive": "inactive"}


@dataclass
class ShapedOffer:
    sdp: str  # what is sent
    own_sdp: str  # aiortc's offer as it made it
    profile: OfferProfile | None
    notes: list[str] = field(default_factory=list)

    def event_fields(self) -> dict[str, Any]:
        provenance = self.profile.provenance() if self.profile else {"name": "aiortc", "browser": "aiortc",
                                                                      "version": "", "source": "aiortc's own offer"}
        return {**provenance, "shaped": self.profile is not None, "aiortc_offer": self.own_sdp, "notes": self.notes}


@dataclass
class AdaptedAnswer:
    sdp: str  # what aiortc applies
    cannot_encode: dict[str, list[str]] = field(default_factory=dict)  # mid -> codec names answered
    rewritten: dict[str, list[str]] = field(default_factory=dict)  # mid -> what was shown differently
    extensions: dict[str, dict[str, int]] = field(default_factory=dict)  # mid -> {uri: id}, as answered
    unwrapped: dict[str, list[str]] = field(default_factory=dict)  # mid -> RED/FEC names red.py receives
    notes: list[str] = field(default_factory=list)
    sdp_changed: bool = False  # whether aiortc applies another text than the recorded answer

    def event_fields(self) -> dict[str, Any]:
        return {"adapted": self.sdp_changed, "cannot_encode": self.cannot_encode, "rewritten": self.rewritten,
                "extensions": self.extensions, "unwrapped": self.unwrapped, "notes": self.notes}

    def summary(self) -> str:
        """One clause for the session's diagnosis, or "" when the probe sends on every m-line."""
        return "; ".join(f"cannot encode {'/'.join(names)} (mid {mid}): nothing sent there, receiving continues"
                         for mid, names in self.cannot_encode.items())


# -- the offer ------------------------------------------------------------------------------------
def shape_offer(offer: str, own_sdp: str) -> ShapedOffer:
    """The offer to send for `--offer NAME|PATH` (aiortc: `own_sdp` unchanged)."""
    profile = load_offer_profile(offer)
    if profile is None:
        return ShapedOffer(own_sdp, own_sdp, None)
    own = parse_description(own_sdp, "aiortc's offer")
    session, sections = section_lines(own_sdp)
    p_session, p_sections = section_lines(profile.sdp)
    notes: list[str] = []
    used: set[int] = set()
    out_sections = []
    for section, lines in zip(own.media, sections, strict=True):
        match = _profile_section(profile.description, section.kind, used)
        if section.kind not in ("audio", "video"):
            out_sections.append(lines)
        elif match is None:
            notes.append(f"the profile has no {section.kind} m-line for mid {section.mid}: aiortc's own sent")
            out_sections.append(lines)
        else:
            out_sections.append(_shaped_section(lines, p_sections[match]))
    extra = [m for m in profile.description.media if m.index not in used and m.kind in ("audio", "video")]
    if extra:
        notes.append(f"{len(extra)} m-line(s) of the profile have no track in the probe and are not offered: "
                     + ", ".join(f"{m.kind} (m-line {m.index})" for m in extra))
    text = join_section_lines(_shaped_session(session, p_session, own), out_sections)
    return ShapedOffer(text, own_sdp, profile, notes)


def track_mismatch(profile: OfferProfile | None, kinds: list[str]) -> str | None:
    """Why `profile` cannot shape an offer of these track kinds, or None when each has an m-line."""
    if profile is None:
        return None
    for kind in ("audio", "video"):
        need, have = kinds.count(kind), profile.kinds().count(kind)
        if need > have:
            return (f"the offer {profile.name} has {have} {kind} m-line(s) but the probe sends {need} {kind} "
                    f"track(s); its m-lines must match the probe's tracks by kind")
    return None


def _profile_section(profile: SessionDescription, kind: str, used: set[int]) -> int | None:
    for section in profile.media:
        if section.kind == kind and section.index not in used and not section.rejected:
            used.add(section.index)
            return section.index
    return None


def _shaped_section(own: list[str], profile: list[str]) -> list[str]:
    """aiortc's m-section with the profile's capabilities: codecs where aiortc's were, extmaps after
    the mid, rtcp-rsize after rtcp-mux, the m-line's formats in the profile's order."""
    m_own, m_profile = own[0].split(" "), profile[0].split(" ")
    head = " ".join(m_own[:3] + m_profile[3:])
    codecs = [line for line in profile if line.startswith(CODEC_PREFIXES)]
    extmaps = [line for line in profile if line.startswith(("a=extmap:", "a=extmap-allow-mixed"))]
    rsize = [line for line in profile if line == "a=rtcp-rsize"]
    out = [head]
    codecs_placed = False
    for line in own[1:]:
        if line.startswith(CAPABILITY_PREFIXES):
            if line.startswith("a=rtpmap:") and not codecs_placed:
                out += codecs
                codecs_placed = True
            continue
        out.append(line)
        if line.startswith("a=mid:"):
            out += extmaps
        elif line == "a=rtcp-mux":
            out += rsize
    if not codecs_placed:
        out += codecs
    return out


def _shaped_session(session: list[str], profile: list[str], own: SessionDescription) -> list[str]:
    """Session lines: extmap-allow-mixed as the profile has it, msid-semantic in its spelling."""
    semantic = next((line for line in profile if line.startswith("a=msid-semantic")), None)
    out = []
    for line in session:
        if line.startswith("a=extmap-allow-mixed"):
            continue
        if line.startswith("a=msid-semantic") and semantic is not None:
            prefix = semantic[:semantic.index("WMS") + 3] if "WMS" in semantic else semantic
            streams = [] if "*" in semantic else list(dict.fromkeys(
                m.msid.split(" ")[0] for m in own.media if m.msid))
            line = " ".join([prefix, *(streams or (["*"] if "*" in semantic else []))])
        out.append(line)
        if line.startswith("a=group:BUNDLE") and "a=extmap-allow-mixed" in profile:
            out.append("a=extmap-allow-mixed")
    return out


# -- the answer -----------------------------------------------------------------------------------
def adapt_answer(answer_sdp: str) -> AdaptedAnswer:
    """The copy of the answer aiortc applies (see the module docstring) and what it means."""
    answer = parse_description(answer_sdp, "answer")
    session, sections = section_lines(answer_sdp)
    result = AdaptedAnswer(answer_sdp, extensions=negotiated_extensions(answer))
    used_pts = {int(f) for m in answer.media for f in m.formats if f.isdigit()}
    out = []
    for section, lines in zip(answer.media, sections, strict=True):
        if section.kind not in ("audio", "video") or section.rejected:
            out.append(lines)
            continue
        media = [c for c in section.codecs if c.role == "media"]
        encodable = [c for c in media if _encodable(c)]
        mid = section.mid or str(section.index)
        if not encodable:
            names = list(dict.fromkeys(c.display_name + _h264_mode(c) for c in media)) or ["no codec"]
            result.cannot_encode[mid] = names
            result.notes.append(f"the answer picked {'/'.join(names)} on mid {mid}: the probe cannot encode "
                                f"{'/'.join(names)} (it encodes Opus, G.722, PCMU, PCMA, VP8 and H.264 mode 1), "
                                "so it sends nothing there; what the target sends is received and counted")
            out.append(_receive_only(lines, section, _free_pt(used_pts)))
            continue
        if media and media[0] is not encodable[0]:
            result.notes.append(f"the answer prefers {media[0].display_name} on mid {mid}; the probe sends "
                                f"{encodable[0].display_name} (PT {encodable[0].payload_type}), also answered")
        lines, rewritten = _baseline_h264(lines, encodable)
        unwrapped = _red_fec(section)
        if unwrapped:
            result.unwrapped[mid] = unwrapped
            result.notes.append(f"mid {mid}: {'/'.join(unwrapped)} answered: the probe receives through them "
                                "(red.py unwraps RED and sets ULPFEC aside); aiortc keeps the primary codecs")
        if rewritten:
            result.rewritten[mid] = rewritten
            result.notes += [f"mid {mid}: {r}" for r in rewritten]
        out.append(lines)
    text = join_section_lines(session, out)
    result.sdp_changed = text != join_section_lines(session, sections)
    result.sdp = text if result.sdp_changed else answer_sdp
    return result


def negotiated_extensions(answer: SessionDescription) -> dict[str, dict[str, int]]:
    """Header extension ids per mid as the ANSWER set them: the ids to stamp and to read
    (transport-wide-cc's among them). Keyed by mid, or the m-line index when there is none."""
    return {(m.mid or str(m.index)): {e.uri: e.id for e in m.extensions}
            for m in answer.media if m.kind in ("audio", "video") and not m.rejected}


def _encodable(codec: Any) -> bool:
    if (codec.name.lower(), codec.clock_rate) not in ENCODABLE:
        return False
    return codec.name.lower() != "h264" or codec.fmtp.get("packetization-mode", "0") == "1"


def _h264_mode(codec: Any) -> str:
    return " mode 0" if codec.name.lower() == "h264" and codec.fmtp.get("packetization-mode", "0") != "1" else ""


def _baseline_h264(lines: list[str], encodable: list[Any]) -> tuple[list[str], list[str]]:
    """H.264 answered under a profile aiortc does not take, shown as constrained baseline."""
    changes: dict[int, str] = {}
    rewritten = []
    for codec in encodable:
        h264 = codec.h264
        plid = codec.fmtp.get("profile-level-id", "")
        if codec.name.lower() != "h264" or h264 is None or h264.profile in ("constrained baseline", "baseline"):
            continue
        changes[codec.payload_type] = H264_CONSTRAINED_BASELINE + plid[4:]
        rewritten.append(f"H.264 PT {codec.payload_type} answered as {h264.profile} ({plid}): sent as constrained "
                         f"baseline ({changes[codec.payload_type]}), which every H.264 profile decodes")
    out = []
    for line in lines:
        pt = _fmtp_pt(line)
        if pt in changes:
            params = [f"profile-level-id={changes[pt]}" if p.strip().lower().startswith("profile-level-id=") else p
                      for p in line.split(" ", 1)[1].split(";")]
            line = f"a=fmtp:{pt} " + ";".join(params)
        out.append(line)
    return out, rewritten


def _red_fec(section: MediaSection) -> list[str]:
    """RED, FEC and RTX-of-RED payload types answered on `section`, by name."""
    gone = {c.payload_type: c.name for c in section.codecs if c.role in ("red", "fec")}
    gone.update({c.payload_type: f"rtx of {gone[c.associated_payload_type]}" for c in section.codecs
                 if c.role == "rtx" and c.associated_payload_type in gone})
    return list(dict.fromkeys(gone.values()))


def _receive_only(lines: list[str], section: MediaSection, pt: int) -> list[str]:
    """The m-line as aiortc sees it: one placeholder codec at an unused PT, never sending."""
    m_line = lines[0].split(" ")
    out = [" ".join(m_line[:3] + [str(pt)])]
    for line in lines[1:]:
        if line.startswith(CODEC_PREFIXES) or line[2:] in RECEIVE_ONLY:
            continue
        out.append(line)
    out += [f"a=rtpmap:{pt} {PLACEHOLDER[section.kind]}", f"a={RECEIVE_ONLY.get(section.direction, 'inactive')}"]
    return out


def _free_pt(used: set[int]) -> int:
    pt = next(p for p in [*range(96, 128), *range(35, 64)] if p not in used)
    used.add(pt)
    return pt


def _fmtp_pt(line: str) -> int | None:
    if not line.startswith("a=fmtp:"):
        return None
    head = line[7:].split(" ", 1)[0]
    return int(head) if head.isdigit() else None

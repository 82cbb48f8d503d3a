"""Answers like a recorded service (`rtcprobe serve --answer-profile NAME`).

The answer a client sees is the profile's (rtcprobe.profiles, answers/): per m-line the recorded
codecs in the recorded order with their fmtp and rtcp-fb, the recorded header extensions, rtcp-rsize,
a=setup, ice-lite, and the recorded candidate shape, at the payload types and extension ids the
client offered. The media is still carried by the target's aiortc answerer, so what is answered
must be what aiortc does:

- aiortc is given a copy of the offer cut down to the answer (`PlannedAnswer.aiortc_offer`):
  per m-line only the codecs the served answer lists, in its order, with only the rtcp-fb the
  profile keeps (no goog-remb unless recorded: aiortc sends REMB only when abs-send-time is
  negotiated, and sends NACK and PLI on video), and only the extmaps the profile keeps. So aiortc
  sends the first answered codec, and nothing it was not answered for.
- H.264 answered as Main or High is shown to aiortc as constrained baseline at the same payload
  type (aiortc only takes (constrained) baseline): it decodes what arrives with libavcodec, which
  reads every profile, and what it sends (constrained baseline) is valid under any H.264 profile.
- A recorded codec aiortc cannot receive (VP9, AV1, ...) is left out of the served answer: the
  target would otherwise accept media it drops.
- Recorded candidates are served as a shape (rtcprobe.profiles notes): aiortc's real loopback UDP
  host candidates at the recorded UDP priority, TCP passive ones at the recorded port and priority
  (advertised only: aiortc listens on no TCP port), component-2 copies and end-of-candidates as
  recorded.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace

from aiortc import RTCRtpSender

from ..profiles import AnswerProfile
from ..sdp import Candidate, MediaSection, parse_candidate, parse_description
from ..sdp.lines import join_section_lines, section_lines

CODEC_PREFIXES = ("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:")
SHAPED_PREFIXES = (*CODEC_PREFIXES, "a=extmap:", "a=rtcp-rsize")
BASELINE = "42e0"  # constrained baseline profile_idc + constraints (RFC 6184 table 5)


class ProfileMismatch(ValueError):
    """The offer has nothing the profile answers on an m-line (HTTP 400, as a service would)."""


@dataclass
class SectionPlan:
    """What one audio/video m-line of the served answer holds."""

    formats: list[str]  # payload types, the profile's order
    codec_lines: list[str]  # rtpmap, rtcp-fb, fmtp at the offer's payload types
    extmaps: list[str]
    rtcp_rsize: bool


@dataclass
class PlannedAnswer:
    profile: AnswerProfile
    aiortc_offer: str  # the offer aiortc answers
    sections: dict[int, SectionPlan]  # by m-line index
    setup: str | None  # the recorded a=setup, when the offer lets the answer pick
    notes: list[str] = field(default_factory=list)


def _receivable(kind: str) -> set[str]:
    """Codec names aiortc can receive on `kind`."""
    return {c.mimeType.split("/")[1].lower() for c in RTCRtpSender.getCapabilities(kind).codecs}


def plan_answer(offer_sdp: str, profile: AnswerProfile) -> PlannedAnswer:
    """Match the offer against the profile, m-line by m-line of the same kind."""
    offer = parse_description(offer_sdp, "offer")
    session, sections = section_lines(offer_sdp)
    recorded = [m for m in profile.description.media if m.kind in ("audio", "video") and not m.rejected]
    used: set[int] = set()
    plans: dict[int, SectionPlan] = {}
    out: list[list[str]] = []
    notes: list[str] = []
    for section, lines in zip(offer.media, sections, strict=True):
        if section.kind not in ("audio", "video") or section.rejected:
            out.append(lines)
            continue
        model = next((m for m in recorded if m.kind == section.kind and m.index not in used), None)
        if model is None:
            raise ProfileMismatch(f"the answer profile {profile.name} has no {section.kind} m-line to answer "
                                  f"m-line {section.index} with")
        used.add(model.index)
        plan, aiortc_lines, skipped = _plan_section(section, lines, model)
        if not plan.formats:
            raise ProfileMismatch(f"m-line {section.index} ({section.kind}) offers none of the codecs the answer "
                                  f"profile {profile.name} answers with")
        notes += [f"mid {section.mid}: recorded {name} left out (aiortc cannot receive it)" for name in skipped]
        plans[section.index] = plan
        out.append(aiortc_lines)
    setups = {m.setup for m in recorded if m.setup}
    offered = {m.setup for m in offer.media if m.setup}
    setup = setups.pop() if len(setups) == 1 and offered == {"actpass"} else None
    return PlannedAnswer(profile, join_section_lines(session, out), plans, setup, notes)


def _plan_section(offered: MediaSection, lines: list[str], model: MediaSection
                  ) -> tuple[SectionPlan, list[str], list[str]]:
    by_identity = {c.identity: c for c in offered.codecs if c.role != "rtx"}
    receivable = _receivable(offered.kind)
    chosen: dict[int, int] = {}  # recorded PT -> offered PT
    skipped = []
    for codec in model.codecs:
        if codec.role == "rtx":
            continue
        match = by_identity.get(codec.identity)
        if match is None or match.payload_type in chosen.values():
            continue
        if codec.name.lower() not in receivable or codec.name.lower() == "h264" \
                and match.fmtp.get("packetization-mode", "0") != "1":  # aiortc depacketizes mode 1 only
            skipped.append(codec.label)
            continue
        chosen[codec.payload_type] = match.payload_type
    rtx = {c.associated_payload_type: c.payload_type for c in offered.codecs if c.role == "rtx"}
    if "rtx" in receivable:
        for codec in model.codecs:
            if codec.role == "rtx" and codec.associated_payload_type in chosen \
                    and chosen[codec.associated_payload_type] in rtx:
                chosen[codec.payload_type] = rtx[chosen[codec.associated_payload_type]]
    codec_lines = _codec_lines(model, chosen)
    offered_ids = {e.uri: e.id for e in offered.extensions}
    extmaps = [f"a=extmap:{offered_ids[e.uri]} {e.uri}" for e in model.extensions if e.uri in offered_ids]
    plan = SectionPlan([str(pt) for pt in chosen.values()], codec_lines, extmaps,
                       model.rtcp_rsize and offered.rtcp_rsize)
    feedback = {chosen[c.payload_type]: set(c.rtcp_fb) for c in model.codecs if c.payload_type in chosen}
    return plan, _aiortc_section(lines, plan, feedback, {e.uri for e in model.extensions}), skipped


def _codec_lines(model: MediaSection, chosen: dict[int, int]) -> list[str]:
    """The recorded codec lines of the chosen payload types, renumbered, in the recorded order."""
    by_pt: dict[int, list[str]] = {pt: [] for pt in chosen}
    for attribute in model.attributes:
        line = f"a={attribute.name}:{attribute.value}" if attribute.value is not None else f"a={attribute.name}"
        if not line.startswith(CODEC_PREFIXES):
            continue
        head, _, rest = line.partition(" ")
        name, _, pt_text = head.partition(":")
        if pt_text.isdigit() and int(pt_text) in chosen:
            if line.startswith("a=fmtp:"):
                rest = ";".join(_renumbered_apt(p, chosen) for p in rest.split(";"))
            by_pt[int(pt_text)].append(f"{name}:{chosen[int(pt_text)]} {rest}".rstrip())
    return [line for pt in chosen for line in by_pt[pt]]


def _renumbered_apt(param: str, chosen: dict[int, int]) -> str:
    key, _, value = param.strip().partition("=")
    if key.lower() == "apt" and value.isdigit() and int(value) in chosen:
        return f"apt={chosen[int(value)]}"
    return param.strip()


def _aiortc_section(lines: list[str], plan: SectionPlan, feedback: dict[int, set[str]],
                    uris: set[str]) -> list[str]:
    """The offered m-section as aiortc is given it: the answer's payload types in its order, their
    offered rtpmap/fmtp (H.264 as constrained baseline), only recorded rtcp-fb and extmaps."""
    m_line = lines[0].split(" ")
    out = [" ".join(m_line[:3] + plan.formats)]
    codec: dict[str, list[str]] = {pt: [] for pt in plan.formats}
    for line in lines[1:]:
        if line.startswith(CODEC_PREFIXES):
            head, _, rest = line.partition(" ")
            pt = head.partition(":")[2]
            if pt not in codec:
                continue
            if line.startswith("a=rtcp-fb:") and rest not in feedback.get(int(pt), set()):
                continue
            if line.startswith("a=fmtp:"):
                line = f"{head} " + ";".join(_baseline(p) for p in rest.split(";"))
            codec[pt].append(line)
        elif line.startswith("a=extmap:"):
            if line.split(" ")[1] in uris:
                out.append(line)
        else:
            out.append(line)
    return out + [line for pt in plan.formats for line in codec[pt]]


def _baseline(param: str) -> str:
    key, _, value = param.strip().partition("=")
    if key.lower() == "profile-level-id" and len(value) == 6 and value[:4].lower() not in ("42e0", "4200"):
        return f"profile-level-id={BASELINE}{value[4:]}"
    return param.strip()


# -- the served answer ------------------------------------------------------------------------------
def served_answer(aiortc_answer: str, plan: PlannedAnswer) -> str:
    """aiortc's answer (identity, directions, ssrcs, candidates) with the profile's capabilities."""
    session, sections = section_lines(aiortc_answer)
    if plan.profile.description.ice_lite and "a=ice-lite" not in session:
        session.insert(next((i for i, line in enumerate(session) if line.startswith("a=")), len(session)),
                       "a=ice-lite")
    shape = candidate_shape(plan.profile)
    out = []
    for index, lines in enumerate(sections):
        section_plan = plan.sections.get(index)
        if section_plan is not None:
            lines = _served_section(lines, section_plan)
        out.append(_shaped_candidates(lines, shape))
    return join_section_lines(session, out)


def _served_section(lines: list[str], plan: SectionPlan) -> list[str]:
    m_line = lines[0].split(" ")
    out = [" ".join(m_line[:3] + plan.formats)]
    placed = False
    for line in lines[1:]:
        if line.startswith(SHAPED_PREFIXES):
            if line.startswith("a=rtpmap:") and not placed:
                out += plan.codec_lines
                placed = True
            continue
        out.append(line)
        if line.startswith("a=mid:"):
            out += plan.extmaps
        elif line == "a=rtcp-mux" and plan.rtcp_rsize:
            out.append("a=rtcp-rsize")
    return out if placed else out + plan.codec_lines


@dataclass
class CandidateShape:
    """What the recorded candidates look like, apart from their addresses."""

    udp_priority: int | None
    tcp: list[tuple[int, int, str | None]]  # (port, priority, tcptype) of the recorded TCP candidates
    components: tuple[int, ...]
    end_of_candidates: bool


def candidate_shape(profile: AnswerProfile) -> CandidateShape | None:
    media = [m for m in profile.description.media if m.candidates]
    if not media:
        return None
    candidates = media[0].candidates
    udp = [c for c in candidates if c.transport.lower() == "udp"]
    tcp = list(dict.fromkeys((c.port, c.priority, c.tcptype) for c in candidates if c.transport.lower() == "tcp"))
    components = tuple(sorted({c.component for c in candidates}))
    return CandidateShape(udp[0].priority if udp else None, tcp, components, media[0].end_of_candidates)


def _shaped_candidates(lines: list[str], shape: CandidateShape | None) -> list[str]:
    positions = [i for i, line in enumerate(lines) if line.startswith("a=candidate:") or line == "a=end-of-candidates"]
    if shape is None or not positions:
        return lines
    real = [parse_candidate(line) for line in lines if line.startswith("a=candidate:")]
    block: list[Candidate] = []
    for candidate in real:
        if candidate.component != 1 or candidate.type != "host":
            continue
        udp = replace(candidate, priority=shape.udp_priority or candidate.priority)
        tcp = [Candidate(foundation=str(zlib.crc32(f"tcp|{candidate.address}|{port}".encode())), component=1,
                         transport="tcp", priority=priority, address=candidate.address, port=port, type="host",
                         tcptype=tcptype, ufrag=candidate.ufrag) for port, priority, tcptype in shape.tcp]
        for component in shape.components:
            block += [replace(c, component=component) for c in [udp, *tcp]]
    new = [f"a={c.to_sdp()}" for c in block] + (["a=end-of-candidates"] if shape.end_of_candidates else [])
    kept = [line for i, line in enumerate(lines) if i not in set(positions)]
    return kept[:positions[0]] + new + kept[positions[0]:]

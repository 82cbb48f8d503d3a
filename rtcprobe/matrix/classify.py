"""What the target did with one variant, read from its capture: a pure function of the capture.

- refused: no answer (HTTP error, non-2xx, or no SDP), with the status when there was one;
- rejected: every m-line the variant is about was answered with port 0 (RFC 3264 §6), or is absent;
- dropped: answered, but without what the variant offers (the codec, RTX, the extension, REMB,
  the rtcp-mux the answer must not add, the simulcast layers) — the quiet "no";
- accepted: answered with it;
- not offered: the offer profile has no such codec (add it with `add_codecs`), so the row says
  nothing about the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..capture.model import Capture
from ..sdp import Codec, MediaSection, SessionDescription
from .transform import matches
from .variants import Variant

CC_FEEDBACK = ("transport-cc", "goog-remb")
AUXILIARY = ("rtx", "red", "ulpfec", "flexfec-03")  # codecs that carry or protect another


@dataclass
class Row:
    variant: str
    about: str
    http_status: int | None
    verdict: str  # accepted, dropped, rejected, refused
    answered: str  # the first media codec of each answered m-line, "" without an answer
    detail: str  # why the verdict
    media: str | None = None  # with --media: "yes: N RTP packets received" / "no: ..."; None when not run
    capture: str = ""


def codec_label(codec: Codec) -> str:
    """`H.264 high 640032 mode 1`, `Opus/48000/2`: the codec identity a person compares."""
    if codec.name.lower() == "h264":
        mode = codec.fmtp.get("packetization-mode", "0")
        profile = codec.h264.profile if codec.h264 else "?"
        return f"{codec.display_name} {profile} {codec.fmtp.get('profile-level-id', '')} mode {mode}"
    return codec.display_name + (f" {codec.fmtp['profile-id']}" if "profile-id" in codec.fmtp else "")


def _http_status(capture: Capture) -> int | None:
    offer = [e for e in capture.http if e.get("phase") in ("offer", None)]
    return offer[-1].get("status") if offer else None


def _alive(answer: SessionDescription, kind: str) -> list[MediaSection]:
    return [m for m in answer.media_of_kind(kind) if not m.rejected]


def _answered(answer: SessionDescription) -> str:
    parts = []
    for m in answer.media:
        if m.kind in ("audio", "video") and not m.rejected and m.media_codecs:
            parts.append(f"{m.kind} {codec_label(m.media_codecs[0])}")
        elif m.is_datachannel and not m.rejected:
            parts.append("data channel")
    return "; ".join(parts)


def _checks(variant: Variant, answer: SessionDescription) -> list[tuple[bool, str]]:
    """(present, what) for each thing the variant offers and the answer should carry."""
    out: list[tuple[bool, str]] = []
    every = [m for m in answer.media if not m.rejected]
    for kind, specs in variant.codecs.items():  # one of the media codecs, and every RTX/RED/FEC offered
        codecs = [c for m in _alive(answer, kind) for c in m.codecs]
        primary = [s for s in specs if s.split()[0].lower() not in AUXILIARY]
        if primary:
            out.append((any(matches(s, c.name, c.fmtp) for s in primary for c in codecs), f"{' or '.join(primary)} on {kind}"))
        for spec in (s for s in specs if s.split()[0].lower() in AUXILIARY):
            found = any(c.role == "rtx" for c in codecs) if spec.lower() == "rtx" else \
                any(c.name.lower() == spec.lower() for c in codecs)
            out.append((found, f"{spec.upper() if spec.lower() == 'rtx' else spec} on {kind}"))
    for codec, params in variant.fmtp.items():
        answered = [c for m in every for c in m.codecs if c.name.lower() == codec.lower()]
        shown = ", ".join(f"{k}={answered[0].fmtp.get(k, 'absent')}" for k in params) if answered else "not answered"
        out.append((bool(answered), f"{codec} answered (answer's {shown})"))
    uris = {e.uri for m in every for e in m.extensions}
    for uri in variant.extensions or []:
        out.append((uri in uris, f"extension {uri}"))
    if variant.drop_feedback:
        fb = {f.split()[0].lower() for m in every for c in m.codecs for f in c.rtcp_fb}
        for kept in (f for f in CC_FEEDBACK if f not in {d.lower() for d in variant.drop_feedback}):
            out.append((kept in fb, f"rtcp-fb {kept}"))
    if not variant.rtcp_mux:
        out.append((not any(m.rtcp_mux for m in every), "no rtcp-mux in the answer (RFC 5761 §5.1.1: only if offered)"))
    if variant.datachannel:
        out.append((any(m.is_datachannel for m in every), "data channel m-line"))
    if variant.simulcast:
        video = _alive(answer, "video")
        rids = [r for m in video for r in m.rids]
        out.append((bool(video and video[0].simulcast and len(rids) >= 2),
                    f"simulcast ({len(rids)} of {variant.simulcast} RID layers answered)"))
    if variant.candidates:
        cands = answer.candidates
        kinds = sorted({f"{c.transport.upper()}/{c.address_family}" for c in cands})
        out.append((True, f"answer's candidates: {len(cands)} ({', '.join(kinds) or 'none'})"))
    return out


def _not_offered(offer: SessionDescription | None, variant: Variant) -> list[str]:
    """The variant's media codecs of a kind none of which the sent offer holds (a profile without
    H.265, say): then the target was not asked."""
    if offer is None:
        return []
    out = []
    for kind, specs in variant.codecs.items():
        primary = [s for s in specs if s.split()[0].lower() not in AUXILIARY]
        codecs = [c for m in offer.media_of_kind(kind) for c in m.codecs]
        if primary and not any(matches(s, c.name, c.fmtp) for s in primary for c in codecs):
            out.append(" or ".join(primary))
    return out


def classify(capture: Capture, variant: Variant, flowed: Any = None) -> Row:
    """The row of one variant's capture; `flowed` is (sent, received) RTP packets with --media."""
    status = _http_status(capture)
    answer = capture.answer
    media = None
    if flowed is not None:
        sent, received = flowed
        media = f"{'yes' if received else 'no'}: {sent} RTP packets sent, {received} received ({capture.reason})"
    row = Row(variant.name, variant.about, status, "refused", "", "", media, str(capture.path))
    lacking = _not_offered(capture.offer, variant)
    if lacking:
        row.verdict, row.detail = "not offered", f"the offer profile has no {', '.join(lacking)}: nothing was asked"
        return row
    if answer is None:
        row.detail = capture.diagnosis or "no answer"
        return row
    row.answered = _answered(answer)
    kinds = list(variant.codecs) or variant.kinds + (["application"] if variant.datachannel else [])
    if kinds and not any(_alive(answer, kind) for kind in kinds):
        row.verdict, row.detail = "rejected", f"{'/'.join(kinds)} m-line(s) answered with port 0 or absent"
        return row
    checks = _checks(variant, answer)
    missing = [what for ok, what in checks if not ok]
    row.verdict = "dropped" if missing else "accepted"
    row.detail = ("missing: " + "; ".join(missing)) if missing else \
        ("; ".join(what for _, what in checks) or f"answered: {'/'.join(kinds) or 'every m-line'} alive")
    return row

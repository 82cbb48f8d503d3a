"""SDP text -> SessionDescription: sdp-transform for structure, the line pass for line numbers."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import sdp_transform

from ..errors import JSONLimitError, json_value, read_text_file
from ..limits import MAX_SDP_BYTES, MAX_SDP_LINES
from .candidate import Candidate, parse_candidate
from .codecs import Codec, int_or_none, parse_fmtp
from .errors import CandidateError, SdpError
from .lines import RawSection, is_candidate_line, numbered_lines, split_sections
from .model import (
    Attribute,
    Fingerprint,
    Group,
    HeaderExtension,
    MediaSection,
    Origin,
    Rid,
    SessionDescription,
    SsrcGroup,
)

#: Attributes the model interprets (each becomes a field); every other attribute, well-known
#: (framerate, tls-id, label, rtcp-mux-only, ...) or not, is kept, shown and diffed as written.
#: `rtcp` is here because its port and address say nothing once rtcp-mux is in use.
INTERPRETED_ATTRIBUTES = frozenset(
    ["rtpmap", "fmtp", "rtcp-fb", "extmap", "extmap-allow-mixed", "mid", "msid", "msid-semantic", "group",
     "ssrc", "ssrc-group", "rid", "simulcast", "sctp-port", "sctpmap", "max-message-size", "setup",
     "fingerprint", "ice-ufrag", "ice-pwd", "ice-options", "ice-lite", "candidate", "end-of-candidates",
     "sendrecv", "sendonly", "recvonly", "inactive", "rtcp", "rtcp-mux", "rtcp-rsize", "ptime", "maxptime",
     "crypto"]
)
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")
#: The attributes whose sdp-transform parse the model reads (every other one comes from the line pass).
_TRANSFORMED = frozenset(["rtpmap", "fmtp", "rtcp-fb", "extmap", "ssrc", "rid", "sctp-port", "max-message-size",
                          "ptime", "maxptime", "sctpmap"])
_ATTRIBUTE_BLANK = re.compile(r"^(a=(?!candidate:)[^:\s]+:)\s+")
SDP_FILE_CONTENT = "SDP, JSON or candidate lines"


def _raw_attrs(section: RawSection) -> list[Attribute]:
    return [Attribute(*raw.attribute, raw.line) for raw in section.attributes()]


def _first(attrs: list[Attribute], name: str) -> Attribute | None:
    return next((a for a in attrs if a.name == name), None)


def _candidates(attrs: list[Attribute], source: str, mid: str | None) -> list[Candidate]:
    out = []
    for attr in attrs:
        if attr.name == "candidate" and attr.value is not None:
            try:
                out.append(parse_candidate(attr.value, mid=mid))
            except CandidateError as exc:
                raise SdpError(str(exc), source, attr.line) from None
    return out


def _codecs(media: dict[str, Any]) -> list[Codec]:
    rtpmap = {int(r["payload"]): r for r in media.get("rtp", []) if int_or_none(r.get("payload")) is not None}
    fmtp = {int(f["payload"]): parse_fmtp(str(f.get("config", ""))) for f in media.get("fmtp", [])
            if int_or_none(f.get("payload")) is not None}
    feedback: dict[str, list[str]] = {}
    for fb in media.get("rtcpFb", []):
        entry = " ".join(str(p) for p in (fb.get("type"), fb.get("subtype")) if p)
        feedback.setdefault(str(fb.get("payload")), []).append(entry)
    codecs = []
    for token in str(media.get("payloads", "")).split():
        pt = int_or_none(token)
        if pt is None or pt not in rtpmap and pt >= 96:
            continue
        entry = rtpmap.get(pt) or _static_payload(pt)
        if entry is None:
            continue
        params = fmtp.get(pt, {})
        codec = Codec(
            payload_type=pt,
            name=str(entry.get("codec", "")),
            clock_rate=int_or_none(entry.get("rate")) or 0,
            channels=int_or_none(entry.get("encoding")),
            fmtp=params,
            rtcp_fb=feedback.get(str(pt), []) + feedback.get("*", []),
            associated_payload_type=int_or_none(params.get("apt")),
        )
        if codec.name.lower() == "red" and "" in params:
            codec.redundant_payload_types = [
                n for n in (int_or_none(p) for p in params[""].split("/")) if n is not None
            ]
            codec.associated_payload_type = next(iter(codec.redundant_payload_types), None)
        codecs.append(codec)
    return codecs


#: RFC 3551 §6 static payload types, which may appear without an rtpmap line (name, rate, channels).
_STATIC = {0: ("PCMU", 8000, 1), 3: ("GSM", 8000, 1), 4: ("G723", 8000, 1), 5: ("DVI4", 8000, 1),
           6: ("DVI4", 16000, 1), 7: ("LPC", 8000, 1), 8: ("PCMA", 8000, 1), 9: ("G722", 8000, 1),
           10: ("L16", 44100, 2), 11: ("L16", 44100, 1), 12: ("QCELP", 8000, 1), 13: ("CN", 8000, 1),
           14: ("MPA", 90000, None), 15: ("G728", 8000, 1), 16: ("DVI4", 11025, 1), 17: ("DVI4", 22050, 1),
           18: ("G729", 8000, 1), 25: ("CelB", 90000, None), 26: ("JPEG", 90000, None), 28: ("nv", 90000, None),
           31: ("H261", 90000, None), 32: ("MPV", 90000, None), 33: ("MP2T", 90000, None),
           34: ("H263", 90000, None)}


def _static_payload(pt: int) -> dict[str, Any] | None:
    if pt not in _STATIC:
        return None
    name, rate, channels = _STATIC[pt]
    return {"codec": name, "rate": rate, "encoding": channels}


def _media_section(index: int, media: dict[str, Any], section: RawSection, session: dict[str, Any],
                   session_attrs: list[Attribute], source: str) -> MediaSection:
    attrs = _raw_attrs(section)
    mline = next(ln for ln in section.lines if ln.letter == "m")
    kind, port, protocol, *formats = mline.value.split()
    mid_attr = _first(attrs, "mid")
    mid = mid_attr.value.strip() if mid_attr and mid_attr.value is not None else None
    own_or_session = lambda name: _first(attrs, name) or _first(session_attrs, name)  # noqa: E731
    direction = next((a.name for a in attrs if a.name in DIRECTIONS), None) or next(
        (a.name for a in session_attrs if a.name in DIRECTIONS), "sendrecv")
    options = own_or_session("ice-options")
    setup = own_or_session("setup")
    fingerprints = [a for a in attrs if a.name == "fingerprint"] or [
        a for a in session_attrs if a.name == "fingerprint"]
    ufrag, pwd = own_or_session("ice-ufrag"), own_or_session("ice-pwd")
    msid = _first(attrs, "msid")
    return MediaSection(
        index=index,
        kind=kind,
        port=int(port.split("/")[0]),
        protocol=protocol,
        formats=formats,
        mid=mid,
        direction=direction,
        rtcp_mux=_first(attrs, "rtcp-mux") is not None,
        rtcp_rsize=_first(attrs, "rtcp-rsize") is not None,
        setup=setup.value.strip() if setup and setup.value else None,
        ice_ufrag=ufrag.value.strip() if ufrag and ufrag.value else None,
        ice_pwd=pwd.value.strip() if pwd and pwd.value else None,
        ice_options=ice_option_tokens(options.value if options else None),
        fingerprints=[Fingerprint(*(f.value.strip().split(None, 1) + [""])[:2]) for f in fingerprints if f.value],
        codecs=_codecs(media),
        extensions=[
            HeaderExtension(int(e["value"]), str(e.get("uri", "")), e.get("direction"), e.get("config"))
            for e in media.get("ext", []) if int_or_none(e.get("value")) is not None
        ],
        extmap_allow_mixed=bool(_first(attrs, "extmap-allow-mixed") or _first(session_attrs, "extmap-allow-mixed")),
        ssrcs=_ssrcs(media),
        ssrc_groups=[  # from the line itself: `a=ssrc-group: FID 1 2` (blank after the colon) too
            SsrcGroup(words[0], tuple(int(w) for w in words[1:]))
            for words in (a.value.split() for a in attrs if a.name == "ssrc-group" and a.value) if words
        ],
        rids=[Rid(str(r.get("id")), str(r.get("direction")), r.get("params")) for r in media.get("rids", [])],
        simulcast=(_first(attrs, "simulcast").value if _first(attrs, "simulcast") else None),
        sctp_port=int_or_none(media.get("sctpPort")) or _sctpmap_port(media),
        max_message_size=int_or_none(media.get("maxMessageSize")),
        candidates=_candidates(attrs, source, mid),
        end_of_candidates=_first(attrs, "end-of-candidates") is not None,
        msid=msid.value if msid else None,
        ptime=int_or_none(media.get("ptime")),
        maxptime=int_or_none(media.get("maxptime")),
        crypto=[a.value or "" for a in attrs if a.name == "crypto"],
        connection_address=(media.get("connection") or session.get("connection") or {}).get("ip"),
        attributes=attrs,
        unknown_attributes=[a for a in attrs if a.name not in INTERPRETED_ATTRIBUTES],
    )


def ice_option_tokens(value: str | None) -> list[str]:
    """`a=ice-options:trickle ice2` (RFC 8839 §5.6, space-separated) and libdatachannel's
    `a=ice-options:ice2,trickle` name the same two options."""
    return list(dict.fromkeys(t for t in re.split(r"[\s,]+", value or "") if t))


def msid_semantic(value: str | None) -> tuple[str | None, list[str]]:
    """`a=msid-semantic: WMS *`, `a=msid-semantic:WMS*` (pion) and `a=msid-semantic:WMS` (no
    stream) all name the WMS semantic (RFC 8830 §5 / draft-alvestrand-mmusic-msid): the semantic
    token, then the stream ids or `*`."""
    match = re.match(r"\s*([A-Za-z0-9_-]+)\s*(.*)$", value or "")
    if not match:
        return None, []
    return match.group(1), match.group(2).split()


def _sctpmap_port(media: dict[str, Any]) -> int | None:
    sctpmap = media.get("sctpmap")
    return int_or_none(sctpmap.get("sctpmapNumber")) if isinstance(sctpmap, dict) else None


def _ssrcs(media: dict[str, Any]) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for entry in media.get("ssrcs", []):
        ssrc = int_or_none(entry.get("id"))
        if ssrc is not None:
            out.setdefault(ssrc, {})[str(entry.get("attribute", ""))] = str(entry.get("value", ""))
    return out


def _infer_type(media: list[MediaSection]) -> str | None:
    """An offer says `setup:actpass`; an answer picks `active` or `passive` (RFC 5763 §5)."""
    roles = {m.setup for m in media if m.setup}
    if roles == {"actpass"}:
        return "offer"
    if roles and roles <= {"active", "passive"}:
        return "answer"
    return None


def parse_fragment(text: str, source: str = "<string>") -> SessionDescription:
    """A file of bare candidate lines (as copied from a trickle log or a study's snippet)."""
    description = SessionDescription(source=source, text=text, fragment=True)
    for number, line in numbered_lines(text):
        stripped = line.strip()
        if stripped.endswith("end-of-candidates"):
            description.loose_end_of_candidates = True
            continue
        if not is_candidate_line(stripped):
            raise SdpError(f"expected a candidate line ('a=candidate:...'), got {stripped[:60]!r}", source, number)
        try:
            description.loose_candidates.append(parse_candidate(stripped))
        except CandidateError as exc:
            raise SdpError(str(exc), source, number) from None
    return description


def _check_size(text: str, source: str) -> None:
    """Past limits.MAX_SDP_LINES / MAX_SDP_BYTES it is not a session description anyone wrote."""
    if len(text) > MAX_SDP_BYTES or text.count("\n") >= MAX_SDP_LINES:
        lines = text.count("\n") + 1
        raise SdpError(f"too large for a session description ({lines:,} lines, {len(text):,} characters; the "
                       f"limit is {MAX_SDP_LINES:,} lines and {MAX_SDP_BYTES // (1024 * 1024)} MiB)", source)


def parse_description(text: str, source: str = "<string>", type: str | None = None) -> SessionDescription:
    """Parse SDP text, a JSON `{"type","sdp"}` object, or bare candidate lines."""
    _check_size(text, source)
    stripped = text.lstrip("\ufeff").strip()
    if stripped.startswith("{"):
        return _parse_json(stripped, source)
    warnings: list[str] = []
    if "\n" not in stripped and stripped.startswith("v=0\\") and "\\n" in stripped:
        # one line with literal `\r\n` escapes: an SDP copied out of a log or a JSON string
        text = stripped.replace("\\r\\n", "\n").replace("\\n", "\n")
        warnings.append(f"{source}: line breaks were written as \\r\\n escapes; read as line breaks")
    lines = numbered_lines(text)
    if lines and is_candidate_line(lines[0][1]):
        return parse_fragment(text, source)
    sections = split_sections(text, source, warnings)
    # sdp-transform's patterns are anchored at both ends of the value: trailing blanks, or blanks
    # after an attribute's colon, would lose values. It gets only the lines whose parse is used:
    # it tries ~50 regexes on every a= line, so candidates and unknown attributes (read from the
    # line pass) would cost most of the time of a large description for nothing.
    parsed = sdp_transform.parse("\n".join(_ATTRIBUTE_BLANK.sub(r"\1", raw.letter + "=" + raw.value.rstrip())
                                           for section in sections for raw in section.lines
                                           if raw.letter != "a" or raw.attribute[0] in _TRANSFORMED))
    parsed_media = parsed.get("media", [])
    if len(parsed_media) != len(sections) - 1:
        raise SdpError(f"found {len(sections) - 1} m-lines but could interpret {len(parsed_media)}", source)
    session_attrs = _raw_attrs(sections[0])
    media = [
        _media_section(i, m, sections[i + 1], parsed, session_attrs, source) for i, m in enumerate(parsed_media)
    ]
    groups = []
    for attr in session_attrs:
        if attr.name == "group" and attr.value:
            semantics, *mids = attr.value.split()
            groups.append(Group(semantics, tuple(mids)))
    bundled = {mid for g in groups if g.semantics.upper() == "BUNDLE" for mid in g.mids}
    for section in media:
        section.bundled = section.mid in bundled
    origin = parsed.get("origin") or {}
    semantic_attr = _first(session_attrs, "msid-semantic")
    semantic, stream_ids = msid_semantic(semantic_attr.value if semantic_attr else None)
    session_options = _first(session_attrs, "ice-options")
    description = SessionDescription(
        source=source,
        text=text,
        type=type or _infer_type(media),
        origin=Origin(str(origin.get("username", "")), str(origin.get("sessionId", "")),
                      str(origin.get("sessionVersion", "")), str(origin.get("address", ""))) if origin else None,
        name=parsed.get("name"),
        groups=groups,
        msid_semantic=semantic,
        msid_stream_ids=stream_ids,
        # RFC 8839 §5.3 puts ice-lite at session level; werift writes it under each m-line instead
        ice_lite=_first(session_attrs, "ice-lite") is not None or any(
            _first(m.attributes, "ice-lite") is not None for m in media),
        ice_options=ice_option_tokens(session_options.value if session_options else None),
        media=media,
        attributes=session_attrs,
        unknown_attributes=[a for a in session_attrs if a.name not in INTERPRETED_ATTRIBUTES],
        warnings=warnings,
    )
    return description


def _parse_json(text: str, source: str) -> SessionDescription:
    try:
        obj = json_value(text)
    except json.JSONDecodeError as exc:
        raise SdpError(f"invalid JSON: {exc.msg} (column {exc.colno})", source, exc.lineno) from None
    except JSONLimitError as exc:
        raise SdpError(str(exc), source, 1) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("sdp"), str):
        raise SdpError('expected a JSON object {"type": "offer"|"answer", "sdp": "..."}', source, 1)
    kind = obj.get("type") if obj.get("type") in ("offer", "answer", "pranswer") else None
    return parse_description(obj["sdp"], f"{source} (sdp field)", type=kind)


def load_description(path: str | Path) -> SessionDescription:
    """Read one description from a file; errors name the file."""
    return parse_description(read_text_file(path, SDP_FILE_CONTENT), str(path))

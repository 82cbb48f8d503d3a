"""First pass over SDP text: split into numbered lines and sections, and reject bad input early.

sdp-transform never fails; it drops what it does not understand. This pass is what lets every
error name its line, and it keeps values sdp-transform mangles (mid as int, ice-options cut to
one token, candidate extension attributes dropped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import SdpError

#: RFC 8866 §5 line types.
KNOWN_LINE_TYPES = frozenset("vosiuepcbtrzkam")
_LINE = re.compile(r"^([A-Za-z])=(.*)$")


@dataclass(frozen=True)
class RawLine:
    line: int
    letter: str
    value: str

    @property
    def attribute(self) -> tuple[str, str | None]:
        """(name, value). Blanks after the colon are spelling (`a=rtpmap: 111 ...`), except for
        candidates, where a blank before the component means an empty foundation."""
        name, sep, value = self.value.partition(":")
        name = name.strip()
        if not sep:
            return name, None
        return name, value.rstrip() if name == "candidate" else value.strip()


@dataclass
class RawSection:
    """The session part (index -1) or one m-line with the lines under it."""

    index: int
    lines: list[RawLine] = field(default_factory=list)

    def attributes(self) -> list[RawLine]:
        return [ln for ln in self.lines if ln.letter == "a"]


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """Non-blank lines with 1-based numbers; accepts \\n, \\r\\n and a leading BOM."""
    text = text.lstrip("\ufeff")
    return [(n, raw.rstrip("\r")) for n, raw in enumerate(text.split("\n"), start=1) if raw.strip()]


def is_candidate_line(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith(("a=candidate:", "candidate:", "a=end-of-candidates", "end-of-candidates"))


def _number(value: str, what: str, source: str, line: int) -> int:
    try:
        return int(value)
    except ValueError:
        raise SdpError(f"{what} must be a number, got {value!r}", source, line) from None


def _check_media_line(value: str, source: str, line: int) -> None:
    tokens = value.split()
    if len(tokens) < 3:
        raise SdpError(f"expected 'm=<media> <port> <proto> <fmt> ...', got 'm={value}'", source, line)
    port = tokens[1].split("/")[0]
    number = _number(port, "m-line port", source, line)
    if not 0 <= number <= 65535:
        raise SdpError(f"m-line port must be 0..65535, got {number}", source, line)
    if "RTP" in tokens[2].upper():
        for fmt in tokens[3:]:
            _number(fmt, "payload type", source, line)


def _check_attribute(raw: RawLine, source: str, seen_mids: dict[str, int]) -> None:
    name, value = raw.attribute
    if value is None:
        return
    if name in ("rtpmap", "fmtp"):
        pt, _, rest = value.partition(" ")
        _number(pt, f"a={name} payload type", source, raw.line)
        if name == "rtpmap":
            parts = rest.strip().split("/")
            if len(parts) < 2 or not parts[0]:
                raise SdpError(f"expected 'a=rtpmap:<pt> <name>/<clock rate>', got 'a={raw.value}'", source, raw.line)
            _number(parts[1], "rtpmap clock rate", source, raw.line)
    elif name == "rtcp-fb":
        pt = value.split(" ")[0]
        if pt != "*":
            _number(pt, "a=rtcp-fb payload type", source, raw.line)
    elif name == "extmap":
        _number(value.split(" ")[0].split("/")[0], "a=extmap id", source, raw.line)
    elif name in ("ssrc", "max-message-size"):
        _number(value.split(" ")[0], f"a={name} value", source, raw.line)
    elif name in ("sctp-port", "rtcp"):
        port = _number(value.split(" ")[0], f"a={name} port", source, raw.line)
        if not 0 <= port <= 65535:
            raise SdpError(f"a={name} port must be 0..65535, got {port}", source, raw.line)
    elif name == "ssrc-group":
        for ssrc in value.split()[1:]:
            _number(ssrc, "a=ssrc-group SSRC", source, raw.line)
    elif name == "mid":
        mid = value.strip()
        if mid in seen_mids:
            raise SdpError(f"duplicate mid {mid!r} (first on line {seen_mids[mid]})", source, raw.line)
        seen_mids[mid] = raw.line


def split_sections(text: str, source: str, warnings: list[str]) -> list[RawSection]:
    """Validate every line and group them: [session, m-line 0, m-line 1, ...]."""
    lines = numbered_lines(text)
    if not lines:
        raise SdpError("empty input: expected an SDP description (v=0 ...) or candidate lines", source, 1)
    first_line, first = lines[0]
    if not first.startswith("v="):
        raise SdpError(
            f"expected 'v=0' on the first line (not an SDP description), got {first[:60]!r}", source, first_line
        )
    if first.strip() != "v=0":  # RFC 8866 §5.1: the only version there is
        raise SdpError(f"unsupported SDP version {first.strip()[:60]!r}: expected 'v=0'", source, first_line)
    sections = [RawSection(index=-1)]
    seen_mids: dict[str, int] = {}
    for number, text_line in lines:
        match = _LINE.match(text_line)
        if not match:
            raise SdpError(f"expected '<letter>=<value>', got {text_line[:60]!r}", source, number)
        raw = RawLine(number, match.group(1), match.group(2))
        if raw.letter not in KNOWN_LINE_TYPES:
            warnings.append(f"{source}:{number}: unknown line type '{raw.letter}=' (kept, not interpreted)")
        if raw.letter == "m":
            _check_media_line(raw.value, source, number)
            sections.append(RawSection(index=len(sections) - 1))
        elif raw.letter == "a":
            _check_attribute(raw, source, seen_mids)
        sections[-1].lines.append(raw)
    return sections


# -- editing an SDP as text (offer and answer shaping, matrix variants) --------------------------
def section_lines(sdp: str) -> tuple[list[str], list[list[str]]]:
    """Session lines and each m-section's lines (m-line first), without line ends."""
    session: list[str] = []
    sections: list[list[str]] = []
    for line in sdp.replace("\r\n", "\n").split("\n"):
        if not line:
            continue
        if line.startswith("m="):
            sections.append([line])
        elif sections:
            sections[-1].append(line)
        else:
            session.append(line)
    return session, sections


def join_section_lines(session: list[str], sections: list[list[str]]) -> str:
    """`section_lines` put back together, with CRLF line ends (as browsers write SDP)."""
    return "\r\n".join([*session, *(line for lines in sections for line in lines)]) + "\r\n"

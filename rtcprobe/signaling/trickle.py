"""Trickle ICE and ICE restart fragments (`application/trickle-ice-sdpfrag`, RFC 8840) as WHIP and
WHEP carry them in PATCH requests (RFC 9725 §4.3): built by the client, read by both sides.

One fragment per PATCH: ICE credentials, then one m-line per bundle (the first m-line: with
BUNDLE every other m-line shares its transport) with its candidates and `a=end-of-candidates`."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass, field

from ..sdp import Candidate, parse_candidate

TRICKLE_TYPE = "application/trickle-ice-sdpfrag"
#: ice-char (RFC 8839 §5.4): ALPHA / DIGIT / "+" / "/".
_ICE_CHARS = string.ascii_letters + string.digits + "+/"


@dataclass
class FragmentSection:
    """One `m=` of a fragment: which media section it is about and what it carries."""

    mline: str  # the m= line as written ("m=audio 9 UDP/TLS/RTP/SAVPF 111")
    mid: str | None = None
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    candidates: list[Candidate] = field(default_factory=list)
    end_of_candidates: bool = False


@dataclass
class Fragment:
    """A parsed trickle-ice-sdpfrag; session-level credentials apply to every section."""

    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    sections: list[FragmentSection] = field(default_factory=list)

    @property
    def ufrag(self) -> str | None:
        """The ufrag the fragment names, wherever it is written (session or first m-line)."""
        return self.ice_ufrag or next((s.ice_ufrag for s in self.sections if s.ice_ufrag), None)

    @property
    def pwd(self) -> str | None:
        return self.ice_pwd or next((s.ice_pwd for s in self.sections if s.ice_pwd), None)

    @property
    def candidates(self) -> list[Candidate]:
        return [c for s in self.sections for c in s.candidates]


def parse_fragment(text: str) -> Fragment:
    """A fragment's credentials, sections and candidates; ValueError naming the line that is
    not a fragment line or not a candidate."""
    fragment = Fragment()
    section: FragmentSection | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("m="):
            section = FragmentSection(mline=line)
            fragment.sections.append(section)
            continue
        if not line.startswith("a="):
            raise ValueError(f"fragment line {number}: expected an a= or m= line, got {line[:60]!r}")
        name, _, value = line[2:].partition(":")
        where = section or fragment
        if name == "ice-ufrag":
            where.ice_ufrag = value.strip()
        elif name == "ice-pwd":
            where.ice_pwd = value.strip()
        elif name == "mid" and section is not None:
            section.mid = value.strip()
        elif name == "candidate":
            if section is None:
                section = FragmentSection(mline="")
                fragment.sections.append(section)
            try:
                section.candidates.append(parse_candidate(line))
            except ValueError as exc:
                raise ValueError(f"fragment line {number}: {exc}") from None
        elif name == "end-of-candidates":
            if section is None:
                section = FragmentSection(mline="")
                fragment.sections.append(section)
            section.end_of_candidates = True
    return fragment


def first_media(sdp: str) -> tuple[str, str | None, list[str]]:
    """(m= line, its mid, the BUNDLE group line or nothing) of a description's first m-line: the
    section a fragment names for a bundled session."""
    mline, mid, groups = "", None, []
    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("a=group:BUNDLE") and not mline:
            groups.append(line)
        elif line.startswith("m="):
            if mline:
                break
            mline = line
        elif line.startswith("a=mid:") and mline:
            mid = line[6:].strip()
    return mline, mid, groups


def credentials(sdp: str) -> tuple[str | None, str | None]:
    """(ice-ufrag, ice-pwd) of a description: the first of each, session or media level."""
    ufrag = next((ln.strip()[12:] for ln in sdp.splitlines() if ln.strip().startswith("a=ice-ufrag:")), None)
    pwd = next((ln.strip()[10:] for ln in sdp.splitlines() if ln.strip().startswith("a=ice-pwd:")), None)
    return ufrag, pwd


def build_fragment(sdp: str, ufrag: str, pwd: str, candidates: list[str] | None = None,
                   end: bool = True) -> str:
    """The fragment for the first m-line of `sdp` (the offer or answer it belongs to):
    `candidates` are "candidate:..." values; `end` adds a=end-of-candidates (RFC 8840 §4.4)."""
    mline, mid, groups = first_media(sdp)
    lines = [*groups, mline or "m=audio 9 UDP/TLS/RTP/SAVPF 0"]
    if mid is not None:
        lines.append(f"a=mid:{mid}")
    lines += [f"a=ice-ufrag:{ufrag}", f"a=ice-pwd:{pwd}"]
    lines += [f"a={c}" for c in candidates or []]
    if end:
        lines.append("a=end-of-candidates")
    return "\r\n".join(lines) + "\r\n"


def new_credentials() -> tuple[str, str]:
    """A fresh ufrag (8 ice-chars, at least the 4 RFC 8839 asks) and pwd (24, at least 22)."""
    return ("".join(secrets.choice(_ICE_CHARS) for _ in range(8)),
            "".join(secrets.choice(_ICE_CHARS) for _ in range(24)))

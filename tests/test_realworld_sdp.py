"""The SDP model, profile, candidate set and diff on real SDPs from other stacks (tests/data/realworld/sdp,
origins in tests/data/realworld/SOURCES): every file reads without a traceback, a respelled copy of
each (same meaning, other spelling) diffs to no change, and real pairs diff to exactly their change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rtcprobe.analyze.candidates import candidate_set
from rtcprobe.analyze.diff import DiffResult, diff_descriptions
from rtcprobe.analyze.profile import _dropped, profile
from rtcprobe.errors import InputError
from rtcprobe.negotiation import Negotiation
from rtcprobe.sdp import SessionDescription, load_description, parse_description

CORPUS = Path(__file__).resolve().parent / "data" / "realworld" / "sdp"
FILES = sorted(CORPUS.glob("*.sdp"))
#: Files the model must refuse, each with the reason the refusal names (kept: they are real too).
REFUSED: dict[str, str] = {}


def text_of(name: str) -> str:
    return (CORPUS / name).read_bytes().decode()


def load(name: str) -> SessionDescription:
    return load_description(CORPUS / name)


def changes(result: DiffResult) -> list[str]:
    rows = [f"{r.field}: {r.a} → {r.b}" for r in result.candidate_table if r.changed and not r.volatile]
    return [c.summary for c in result.changes] + rows


def test_corpus_is_large_and_sourced() -> None:
    sources = (CORPUS.parent / "SOURCES").read_text()
    assert len(FILES) >= 40
    missing = [f.name for f in FILES if f"sdp/{f.name} |" not in sources]
    assert missing == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_file_is_read_profiled_and_diffed(path: Path) -> None:
    try:
        description = load_description(path)
    except InputError as exc:  # a refusal is one line naming the file, never a traceback
        assert path.name in REFUSED and REFUSED[path.name] in str(exc) and str(path) in str(exc)
        return
    assert path.name not in REFUSED
    described = profile(Negotiation(str(path), description if description.type != "answer" else None,
                                    description if description.type == "answer" else None))
    assert [r.aspect for r in described.rows][:8] == ["PeerConnection", "ICE/TURN", "SRTP encryption", "Audio",
                                                       "Video", "DataChannels", "RTP header extensions", "RTCP"]
    cset = candidate_set(description)
    assert cset.count == len({(c.foundation, c.component, c.transport, c.address, c.port, c.type)
                              for c in description.candidates})
    same = diff_descriptions(description, load_description(path))
    assert changes(same) == [] and not same.semantic_change


# --- respelling: what a different stack (or the same one, another day) writes for the same meaning ---

def _sections(text: str) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.startswith("m="):
            out.append([])
        if line.strip():
            out[-1].append(line)
    return out


def _codec_names(lines: list[str]) -> dict[str, str]:
    return {m.group(1): m.group(2) for m in (re.match(r"a=rtpmap:(\d+) ([^/\s]+)", ln) for ln in lines) if m}


def _respell_codecs(lines: list[str], kind: str) -> list[str]:
    """Add or drop default-valued codec parameters: audio `/1`, VP9 profile-id=0, H.264
    packetization-mode=0, AV1 profile=0, Opus useinbandfec/usedtx/stereo=0."""
    names = _codec_names(lines)
    fmtp_pts = {m.group(1) for m in (re.match(r"a=fmtp:(\d+) ", ln) for ln in lines) if m}
    out = []
    for line in lines:
        rtpmap = re.match(r"a=rtpmap:(\d+) ([^/\s]+)/(\d+)(/\d+)?\s*$", line)
        fmtp = re.match(r"a=fmtp:(\d+) (.*)$", line)
        if rtpmap and kind == "audio" and rtpmap.group(2).lower() not in ("opus",):
            if rtpmap.group(4) == "/1":
                line = line.rstrip()[:-2]
            elif rtpmap.group(4) is None:
                line = line.rstrip() + "/1"
        elif fmtp:
            name = names.get(fmtp.group(1), "").lower()
            params = fmtp.group(2).strip()
            for default in {"vp9": ["profile-id=0"], "h264": ["packetization-mode=0"], "av1": ["profile=0"],
                            "opus": ["usedtx=0", "stereo=0"]}.get(name, []):
                parts = [p.strip() for p in params.split(";") if p.strip()]
                key = default.split("=")[0]
                if default in parts:
                    parts.remove(default)
                elif not any(p.split("=")[0] == key for p in parts):
                    parts.append(default)
                params = ";".join(parts)
            if not params:
                continue
            line = f"a=fmtp:{fmtp.group(1)} {params}"
        out.append(line)
        if rtpmap and rtpmap.group(1) not in fmtp_pts:
            default = {"vp9": "profile-id=0", "h264": "packetization-mode=0", "av1": "profile=0",
                       "opus": "useinbandfec=0"}.get(rtpmap.group(2).lower())
            if default:
                out.append(f"a=fmtp:{rtpmap.group(1)} {default}")
    return out


def _respell_ice_options(line: str) -> str:
    """`trickle ice2` -> `ice2,trickle` (libdatachannel) and back."""
    if not line.startswith("a=ice-options:"):
        return line
    value = line[len("a=ice-options:"):]
    tokens = list(reversed(re.split(r"[\s,]+", value.strip())))
    return "a=ice-options:" + (" ".join(tokens) if "," in value else ",".join(tokens))


def respell(text: str) -> str:
    """The same description, spelled as another stack would: candidate lines in reverse order,
    default codec parameters added or dropped, msid-semantic with or without its spaces,
    ice-options comma-separated, ice-lite moved between session and media level."""
    session, *media = _sections(text)
    out = []
    for line in session:
        if line.startswith("a=msid-semantic:"):  # WMS * -> WMS*, WMS* -> " WMS *", " WMS x" -> "WMS x"
            value = line[len("a=msid-semantic:"):]
            line = ("a=msid-semantic:" + value.strip().replace(" ", "") if value.strip().endswith(" *")
                    else "a=msid-semantic: " + value.replace("*", " *") if value.endswith("WMS*")
                    else "a=msid-semantic:" + (value.strip() if value.startswith(" ") else " " + value))
        out.append(_respell_ice_options(line))
    session_lite = "a=ice-lite" in session
    media_lite = bool(media) and all("a=ice-lite" in m for m in media)
    if session_lite:
        out.remove("a=ice-lite")
    elif media_lite:
        out.append("a=ice-lite")
    for section in media:
        kind = section[0][2:].split()[0]
        candidates = [ln for ln in section if ln.startswith("a=candidate:")]
        rest = [ln for ln in section if not ln.startswith("a=candidate:")]
        if media_lite:
            rest.remove("a=ice-lite")
        rest = [_respell_ice_options(ln) for ln in rest]
        rest = _respell_codecs(rest, kind)
        out += rest[:1] + (["a=ice-lite"] if session_lite else []) + rest[1:] + list(reversed(candidates))
    return "\r\n".join(out) + "\r\n"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_respelled_copy_is_no_change(path: Path) -> None:
    original = load_description(path)
    respelled_text = respell(path.read_bytes().decode())
    assert respelled_text != path.read_bytes().decode().replace("\r\n", "\n").replace("\n", "\r\n") or (
        "a=candidate" not in respelled_text and "a=rtpmap" not in respelled_text)
    respelled = parse_description(respelled_text, f"{path.name} (respelled)")
    assert changes(diff_descriptions(original, respelled)) == []
    assert changes(diff_descriptions(respelled, original)) == []
    assert respelled.ice_lite == original.ice_lite
    assert respelled.msid_semantic == original.msid_semantic

"""The SDP model, profile, candidate set and diff on real SDPs from other stacks (tests/data/realworld/sdp,
origins in tests/data/realworld/SOURCES): every file reads without a traceback, a respelled copy of
each (same meaning, other spelling) diffs to no change, and real pairs diff to exactly their change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rtcprobe.analyze.candidates import candidate_set
from rtcprobe.analyze.diff import DiffResult, diff_descriptions
from rtcprobe.analyze.profile import ASPECTS, _dropped, profile
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
    is_answer = description.type == "answer"
    described = profile(Negotiation(str(path), offer=None if is_answer else description,
                                    answer=description if is_answer else None))
    assert [r.aspect for r in described.rows if r.aspect != "Interface"] == list(ASPECTS[:-1])
    assert all(r.summary for r in described.rows)
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


def _respell_extmap(line: str) -> str:
    """`a=extmap:3 uri` -> `a=extmap:3/sendrecv uri` and back (RFC 8285 §5 default)."""
    match = re.match(r"a=extmap:(\d+)(/sendrecv)? (.*)$", line)
    if not match:
        return line
    return f"a=extmap:{match.group(1)}{'' if match.group(2) else '/sendrecv'} {match.group(3)}"


def respell(text: str) -> str:
    """The same description, spelled as another stack would: candidate lines in reverse order,
    default codec parameters added or dropped, msid-semantic with or without its spaces,
    ice-options comma-separated, ice-lite moved between session and media level, extmap
    direction sendrecv written or not, sctp-port 5000 and max-message-size 65536 written or not."""
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
        rest = [_respell_extmap(_respell_ice_options(ln)) for ln in rest]
        rest = _respell_codecs(rest, kind)
        if "UDP/DTLS/SCTP" in section[0]:  # RFC 8841 defaults: sctp-port 5000, max-message-size 65536
            for default in ("a=sctp-port:5000", "a=max-message-size:65536"):
                key = default.split(":")[0] + ":"
                if default in rest:
                    rest.remove(default)
                elif not any(ln.startswith(key) for ln in rest):
                    rest.append(default)
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


# --- each class of issue 9, on the real file that shows it ---

def test_default_codec_parameters_are_the_same_codec() -> None:
    # Firefox writes G722/8000/1, aiortc writes the same description back as G722/8000: the only
    # real difference is the extmap direction aiortc drops
    firefox, aiortc = load("aiortc-audio_firefox-1.sdp"), load("aiortc-audio_firefox-2.sdp")
    assert changes(diff_descriptions(firefox, aiortc)) == [
        "audio (mid sdparta_0): audio-level direction sendonly → sendrecv"]
    assert _dropped(firefox, aiortc) == []  # G.722 was answered, not dropped
    # Chime's VP9 without profile-id is VP9 profile 0: only the profile 2 codec is gone
    chrome, no_profile = load("chime-chrome-offer-audio-video.sdp"), load("chime-chrome-offer-vp9-no-profile-id.sdp")
    assert changes(diff_descriptions(chrome, no_profile)) == [
        "video (mid video): codecs removed: vp9/90000 (profile-id=2), rtx for vp9/90000 (profile-id=2)",
        "video (mid video): codecs added: rtx/90000",  # upstream's rtx apt=100 points at a removed codec
    ]


@pytest.mark.parametrize(("name", "old", "new"), [
    # H.264 without fmtp is profile-level-id 42000a, packetization-mode 0 (RFC 6184 §8.1)
    ("pion-test-offer-inactive-video.sdp", "a=rtpmap:97 H264/90000\n",
     "a=rtpmap:97 H264/90000\na=fmtp:97 profile-level-id=42000A;packetization-mode=0;level-asymmetry-allowed=0\n"),
    # Opus flags default to 0 (RFC 7587 §6.1)
    ("aiortc-audio_chrome-1.sdp", "a=fmtp:111 minptime=10;useinbandfec=1",
     "a=fmtp:111 minptime=10;useinbandfec=1;stereo=0;sprop-stereo=0;usedtx=0;cbr=0;maxplaybackrate=48000"),
    # AV1 profile 0, level-idx 5, tier 0 (AV1 RTP spec §7.1)
    ("chime-chrome-offer-av1.sdp", "a=rtpmap:96 AV1/90000\n", "a=rtpmap:96 AV1/90000\na=fmtp:96 profile=0;level-idx=5;tier=0\n"),
    # telephone-event's events default to 0-15 (RFC 4733 §7.1.1)
    ("aiortc-audio_chrome-1.sdp", "a=rtpmap:126 telephone-event/8000\n",
     "a=rtpmap:126 telephone-event/8000/1\na=fmtp:126 0-15\n"),
])
def test_default_written_or_omitted_is_no_change(name: str, old: str, new: str) -> None:
    text = text_of(name).replace("\r\n", "\n")
    assert old in text
    assert changes(diff_descriptions(parse_description(text), parse_description(text.replace(old, new)))) == []


def test_candidate_order_is_no_change() -> None:
    """The issue's case: two candidate lines swapped gave 'address families IPv4, IPv6 → IPv6, IPv4'."""
    text = text_of("aiortc-audio_firefox-1.sdp")
    first = "a=candidate:0 1 UDP 2122187007 192.168.99.58 45274 typ host"
    second = "a=candidate:2 1 UDP 2122252543 2a02:a03f:3eb0:e000:b0aa:d60a:cff2:933c 47387 typ host"
    assert f"{first}\n{second}" in text
    swapped = parse_description(text.replace(f"{first}\n{second}", f"{second}\n{first}"))
    result = diff_descriptions(parse_description(text), swapped)
    assert changes(result) == [] and not result.semantic_change
    assert candidate_set(swapped).families == ["IPv6", "IPv4"]  # the set keeps what it read ...
    assert next(r for r in result.candidate_table if r.field == "candidate type").b == "host, srflx"  # ... shown canonically


@pytest.mark.parametrize(("name", "semantic", "ids"), [
    ("pion-offer-rtx-wms-star.sdp", "WMS", ["*"]),  # a=msid-semantic:WMS*  (pion)
    ("libdatachannel-offer-audio-data.sdp", "WMS", ["*"]),  # a=msid-semantic:WMS *
    ("pion-test-lite-offer.sdp", "WMS", []),  # a=msid-semantic: WMS
    ("aiortc-safari-1.sdp", "WMS", ["cb7e185b-6110-4f65-b027-ddb8b5fa78c7"]),
    ("sdptransform-jsep.sdp", "WMS", []),  # a=msid-semantic:WMS
    ("sdptransform-sctp-dtls-26.sdp", "WMS", []),  # a=msid-semantic: WMS (trailing blank)
    ("sdptransform-icelite.sdp", None, []),  # no msid-semantic line
])
def test_msid_semantic_spellings(name: str, semantic: str | None, ids: list[str]) -> None:
    description = load(name)
    assert (description.msid_semantic, description.msid_stream_ids) == (semantic, ids)


def test_pion_answer_then_ice_lite_is_one_change() -> None:
    """OpenAI's January 2026 answers are pion's (`a=msid-semantic:WMS*`); a later answer spelled
    `WMS *` that also says `a=ice-lite` (and, as every session, new credentials) is ONE change."""
    january = text_of("pion-offer-rtx-wms-star.sdp")
    april = (january.replace("a=msid-semantic:WMS*", "a=msid-semantic: WMS *\na=ice-lite")
             .replace("yIgpPUMarFReduuM", "QvTLkzPAdxMrnHgE").replace("VmnVaqCByWiOTatFoDBbMGhSFGlsxviz", "x" * 32)
             .replace("930222930247584370 1727933945", "4611686018427387904 1745000000")
             .replace("11:3F:1C:8D", "22:4E:2D:9E"))
    result = diff_descriptions(parse_description(january), parse_description(april))
    assert changes(result) == ["session: ice-lite False → True"]
    assert result.volatile  # the credentials and session id are listed apart


def test_media_level_ice_lite_comma_ice_options_and_lip_sync() -> None:
    werift = load("werift-offer-icelite-audio-video-data.sdp")  # a=ice-lite under each m-line only
    assert not any(a.name == "ice-lite" for a in werift.attributes) and werift.ice_lite
    ldc = load("libdatachannel-offer-audio-data.sdp")  # a=ice-options:ice2,trickle ; a=group:LS audio
    assert ldc.ice_options == ["ice2", "trickle"] and ldc.all_ice_options == ["ice2", "trickle"]
    assert [m.ice_options for m in ldc.media] == [["ice2", "trickle"], ["ice2", "trickle"]]
    assert [(g.semantics, g.mids) for g in ldc.lip_sync_groups] == [("LS", ("audio",))]
    assert [(g.semantics, g.mids) for g in ldc.bundle_groups] == [("BUNDLE", ("audio", "0"))]
    assert [m.bundled for m in ldc.media] == [True, True]
    text = text_of("libdatachannel-offer-audio-data.sdp")
    without_ls = parse_description(text.replace("a=group:LS audio\n", ""))
    assert changes(diff_descriptions(ldc, without_ls)) == ["session: other groups LS audio → none"]
    janus = load("pion-test-janus-offer-videoroom.sdp")  # a=ice-options:trickle at session and media level
    assert janus.ice_options == ["trickle"] and not janus.ice_lite


def test_empty_candidate_foundation_is_an_anomaly_not_an_error() -> None:
    google = load("werift-issue141-google-icelite.sdp")  # a=candidate: 1 udp 2113939711 2607:... (real Google)
    assert google.ice_lite and len(google.candidates) == 6
    assert all(c.foundation == "" for c in google.candidates)
    assert all("empty foundation (RFC 8839: 1 to 32 ice-chars)" in c.anomalies for c in google.candidates)
    ssltcp = [c for c in google.candidates if c.transport == "ssltcp"]
    assert len(ssltcp) == 2 and all("transport 'ssltcp' is neither UDP nor TCP" in c.anomalies for c in ssltcp)
    assert google.candidates[0].to_sdp() == "candidate: 1 udp 2113939711 2607:f8b0:400e:c03::7f 19305 typ host generation 0"
    assert [r.anomalies for r in candidate_set(google).rows][0] == ["empty foundation (RFC 8839: 1 to 32 ice-chars)"]


@pytest.mark.parametrize(("a", "b", "expected"), [
    ("sdptransform-tcp-active.sdp", "sdptransform-tcp-passive.sdp", [
        "image (m-line 0): DTLS setup role active → passive",
        "image (m-line 0): attributes removed: a=connection:new",
        "image (m-line 0): attributes added: a=connection:existing"]),
    # Firefox 46's offer, then its answer: recvonly, codecs it did not keep, setup active
    ("libwebrtc-fuzz-firefox-1.sdp", "libwebrtc-fuzz-firefox-2.sdp", [
        "audio (mid sdparta_0), video (mid sdparta_1): direction sendrecv → recvonly",
        "audio (mid sdparta_0): codecs removed: g722/8000, pcmu/8000, pcma/8000",
        "every m-line: DTLS setup role actpass → active",
        "video (mid sdparta_1): codecs removed: h264/90000 (constrained baseline, packetization-mode=1), "
        "h264/90000 (constrained baseline, packetization-mode=0)"]),
    # aiortc writes Chrome's video offer back without a=rtcp-rsize
    ("aiortc-video_chrome-1.sdp", "aiortc-video_chrome-2.sdp", ["video (mid video): rtcp-rsize True → False"]),
    ("werift-issue141-google-icelite.sdp", "werift-issue142-google-icelite.sdp", []),
])
def test_real_pairs_show_exactly_their_change(a: str, b: str, expected: list[str]) -> None:
    assert changes(diff_descriptions(load(a), load(b))) == expected


@pytest.mark.parametrize("name", ["chime-chrome-offer-audio-video.sdp", "aiortc-audio_firefox-1.sdp",
                                  "pion-test-chrome-offer-simulcast-vp9-mid1-vp8-mid2.sdp"])
def test_blank_after_an_attribute_colon_is_spelling(name: str) -> None:
    """`a=rtpmap: 111 opus/48000/2`, `a=ssrc-group: FID ...`: hand-edited and some stacks' spelling."""
    text = text_of(name)
    spaced = re.sub(r"^(a=(?!candidate)[^:\s]+:)", r"\1 ", text, flags=re.M)
    assert spaced != text
    assert changes(diff_descriptions(parse_description(text), parse_description(spaced))) == []

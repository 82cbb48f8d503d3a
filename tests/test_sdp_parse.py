"""Parsing: every accepted input form, and a one-line error naming file and line for bad input."""

from pathlib import Path

import pytest

from rtcprobe.errors import InputError
from rtcprobe.inputs import load_negotiation
from rtcprobe.sdp import SdpError, load_description, parse_description

REPO = Path(__file__).resolve().parents[1]
GA_ANSWER = (REPO / "captures" / "openai-ga-2025-09-answer.sdp").read_text()


def test_crlf_and_lf_give_the_same_model() -> None:
    crlf = parse_description(GA_ANSWER)
    lf = parse_description(GA_ANSWER.replace("\r\n", "\n"))
    assert crlf.type == lf.type == "answer"
    assert [m.mid for m in crlf.media] == [m.mid for m in lf.media] == ["0", "1", "2"]
    assert [c.identity for c in crlf.media[1].codecs] == [c.identity for c in lf.media[1].codecs]


def test_media_section_model() -> None:
    d = parse_description(GA_ANSWER)
    audio, video, data = d.media
    assert audio.bundled and video.bundled and data.bundled
    assert audio.rtcp_mux and not audio.rtcp_rsize and video.rtcp_rsize
    assert audio.setup == "passive" and audio.ice_ufrag == "Ft3Vn0xUJk8"
    assert audio.fingerprints[0].algorithm == "sha-256"
    opus = audio.codecs[0]
    assert (opus.name, opus.clock_rate, opus.channels, opus.payload_type) == ("opus", 48000, 2, 111)
    assert opus.opus.inband_fec and not opus.opus.dtx
    assert [c.h264.profile for c in video.codecs] == ["baseline", "constrained baseline", "main", "high"]
    assert video.codecs[0].rtcp_fb == ["transport-cc", "nack", "nack pli"]
    assert [e.name for e in video.extensions] == ["transport-cc", "rid", "repaired-rid"]
    assert data.is_datachannel and data.sctp_port == 5000 and data.max_message_size == 262144
    assert len(d.candidates) == 6 and not d.end_of_candidates


def test_rtx_red_ssrc_groups_and_simulcast() -> None:
    offer = (REPO / "captures" / "openai-api-demo-offer.sdp").read_text()
    d = parse_description(offer)
    video = d.media[1]
    rtx = [c for c in video.codecs if c.role == "rtx"]
    assert rtx and all(video.codec(c.associated_payload_type) is not None for c in rtx)
    assert video.ssrc_groups[0].semantics == "FID" and video.ssrc_groups[0].ssrcs == (2222, 3333)
    red = next(c for c in d.media[0].codecs if c.role == "red")
    assert red.redundant_payload_types == [111, 111]
    simulcast = parse_description(
        "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:v\n"
        "a=rtpmap:96 VP8/90000\na=rid:h send\na=rid:l send\na=simulcast:send h;l\n"
    )
    assert [r.id for r in simulcast.media[0].rids] == ["h", "l"] and simulcast.media[0].simulcast == "send h;l"


def test_json_object_and_fragment(tmp_path: Path) -> None:
    path = tmp_path / "answer.json"
    path.write_text('{"type": "answer", "sdp": ' + __import__("json").dumps(GA_ANSWER) + "}")
    assert load_description(path).type == "answer"
    fragment = load_description(REPO / "captures" / "openai-2024-11-candidates.txt")
    assert fragment.fragment and len(fragment.candidates) == 4 and fragment.end_of_candidates


def test_unknown_attribute_kept_and_unknown_line_type_warns() -> None:
    d = parse_description("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nx=whatever\nm=audio 9 RTP/AVP 0\na=x-foo:bar\n", "f.sdp")
    assert [(a.name, a.value, a.line) for a in d.media[0].unknown_attributes] == [("x-foo", "bar", 7)]
    assert d.warnings == ["f.sdp:5: unknown line type 'x=' (kept, not interpreted)"]
    assert d.media[0].codecs[0].name == "PCMU"  # static payload type without rtpmap


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("hello world\n", 1, "expected 'v=0'"),
        ("v=0\no=- 1 1 IN IP4 0.0.0.0\nthis is not sdp\n", 3, "expected '<letter>=<value>'"),
        ("v=0\nm=audio abc RTP/AVP 0\n", 2, "m-line port must be a number"),
        ("v=0\nm=audio 9 RTP/AVP 0 x\n", 2, "payload type must be a number"),
        ("v=0\nm=audio 9 RTP/AVP 0\na=rtpmap:zz opus/48000\n", 3, "a=rtpmap payload type must be a number"),
        ("v=0\nm=audio 9 RTP/AVP 0\na=mid:a\nm=video 9 RTP/AVP 96\na=mid:a\n", 5, "duplicate mid 'a' (first on line 3)"),
        ("v=0\nm=audio 9 RTP/AVP 0\na=candidate:1 1 udp x 1.2.3.4 9 typ host\n", 3, "priority must be a number"),
        ("a=candidate:1 1 udp 1 1.2.3.4 9 typ host\nnot a candidate\n", 2, "expected a candidate line"),
        ('{"type": "offer",\n "sdp": }', 2, "invalid JSON"),
    ],
)
def test_bad_input_names_file_and_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(SdpError) as caught:
        parse_description(text, "in.sdp")
    assert caught.value.line == line
    assert str(caught.value).startswith(f"in.sdp:{line}: ")
    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_negotiation(tmp_path / "missing.sdp")
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(InputError, match="not a text file"):
        load_negotiation(binary)


REALWORLD = Path(__file__).resolve().parent / "data" / "realworld" / "sdp"


def test_literal_crlf_escapes_read_as_line_breaks() -> None:
    """An SDP pasted from a log or a JSON string (`v=0\\r\\no=...` on one line) is the same SDP."""
    text = (REALWORLD / "libdatachannel-offer-audio-data.sdp").read_text()
    escaped = parse_description(text.replace("\n", "\\r\\n"), "pasted.sdp")
    plain = parse_description(text, "plain.sdp")
    assert [m.label for m in escaped.media] == [m.label for m in plain.media] == ["audio (mid audio)", "application (mid 0)"]
    assert escaped.candidates == plain.candidates
    assert escaped.warnings == ["pasted.sdp: line breaks were written as \\r\\n escapes; read as line breaks"]


def test_candidate_with_a_cut_extension_is_kept_with_an_anomaly() -> None:
    text = (REALWORLD / "libdatachannel-answer-to-werift.sdp").read_text()
    line = "a=candidate:1 1 UDP 2114977791 127.0.0.1 50527 typ host"
    assert line in text
    description = parse_description(text.replace(line, line + " generation"), "cut.sdp")
    assert description.candidates[0].anomalies == [
        "extension attribute 'generation' has no value (RFC 8839: name and value)"]


def test_ssrc_group_with_a_blank_after_the_colon() -> None:
    text = (REALWORLD / "pion-offer-rtx-wms-star.sdp").read_text()
    assert "a=ssrc-group:FID 1701050765 2578535262" in text
    spaced = parse_description(text.replace("a=ssrc-group:FID", "a=ssrc-group: FID"), "spaced.sdp")
    assert [(g.semantics, g.ssrcs) for g in spaced.media[1].ssrc_groups] == [("FID", (1701050765, 2578535262))]

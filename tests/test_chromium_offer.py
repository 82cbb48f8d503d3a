"""A real Chromium offer, read by the SDP model: what Chromium really offers must come out.

Every fact is checked on two offers: one made by headless Chromium during the test ("live") and
the one recorded in tests/data/chromium-offer.sdp ("recorded", no browser needed). A Chromium
upgrade that changes these facts fails "live" first; re-record with
tests/data/record_chromium_offer.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from browser import DATA_DIR, Chromium, create_offer

from rtcprobe.sdp import SessionDescription, parse_description

RECORDED = DATA_DIR / "chromium-offer.sdp"
RTCPROBE = Path(sys.executable).with_name("rtcprobe")  # the console script of this venv


async def _live_offer(chromium: Chromium) -> str:
    async with chromium.open_page() as page:
        return await create_offer(page)


@pytest.fixture(scope="module")
def live_offer(chromium: Chromium) -> str:
    return chromium.run(lambda: _live_offer(chromium))


@pytest.fixture(
    scope="module", params=["recorded", pytest.param("live", marks=pytest.mark.browser)]
)
def offer_text(request: pytest.FixtureRequest) -> str:
    if request.param == "recorded":
        return RECORDED.read_bytes().decode("ascii")  # bytes: keep Chromium's CRLF
    return request.getfixturevalue("live_offer")


@pytest.fixture(scope="module")
def offer(offer_text: str) -> SessionDescription:
    return parse_description(offer_text, source="chromium-offer")


def test_recorded_offer_is_chromium_as_written() -> None:
    raw = RECORDED.read_bytes()
    assert raw.startswith(b"v=0\r\n") and raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b""), "every line ends in CRLF, as Chromium writes"


def test_offer_is_audio_video_datachannel(offer: SessionDescription) -> None:
    assert offer.type == "offer"
    assert [m.kind for m in offer.media] == ["audio", "video", "application"]
    assert offer.media[2].is_datachannel and offer.media[2].sctp_port == 5000
    assert all(m.direction == "sendrecv" for m in offer.media[:2])
    assert all(m.setup == "actpass" and m.rtcp_mux for m in offer.media[:2])
    assert offer.warnings == []


def test_bundle_group_holds_every_mid(offer: SessionDescription) -> None:
    (bundle,) = offer.bundle_groups
    mids = [m.mid for m in offer.media]
    assert None not in mids
    assert sorted(bundle.mids) == sorted(mids)
    assert all(m.bundled for m in offer.media)


def test_video_codecs_ask_for_transport_cc(offer: SessionDescription) -> None:
    (video,) = offer.media_of_kind("video")
    assert video.media_codecs
    for codec in video.media_codecs:
        assert "transport-cc" in codec.rtcp_fb, codec.label
        assert "nack pli" in codec.rtcp_fb, codec.label


def test_video_offers_vp8_vp9_h264_av1(offer: SessionDescription) -> None:
    (video,) = offer.media_of_kind("video")
    names = {codec.display_name for codec in video.media_codecs}
    assert {"VP8", "VP9", "H.264", "AV1"} <= names
    profiles = {codec.h264.profile for codec in video.media_codecs if codec.h264}
    assert {"constrained baseline", "baseline"} <= profiles


def test_rtx_payload_types_point_at_offered_codecs(offer: SessionDescription) -> None:
    (video,) = offer.media_of_kind("video")
    rtx = [codec for codec in video.codecs if codec.role == "rtx"]
    assert rtx
    for codec in rtx:
        assert codec.associated_payload_type is not None, f"rtx {codec.payload_type} has no apt"
        primary = video.codec(codec.associated_payload_type)
        assert primary is not None, f"rtx {codec.payload_type}: apt={codec.associated_payload_type} not offered"
        assert primary.role != "rtx"
    protected = {codec.associated_payload_type for codec in rtx}
    assert {codec.payload_type for codec in video.media_codecs} <= protected  # RTX for every codec


def test_audio_is_opus_with_inband_fec_and_red(offer: SessionDescription) -> None:
    (audio,) = offer.media_of_kind("audio")
    opus = audio.media_codecs[0]
    assert opus.display_name == "Opus" and opus.opus is not None
    assert opus.opus.inband_fec and not opus.opus.dtx
    red = next(codec for codec in audio.codecs if codec.role == "red")
    assert red.redundant_payload_types == [opus.payload_type, opus.payload_type]


def test_gathered_host_candidates(offer: SessionDescription) -> None:
    host = [c for c in offer.candidates if c.type == "host"]
    assert host
    assert all(m.candidates for m in offer.media), "ICE gathering completed on every m-line"
    assert not any(c.is_mdns for c in offer.candidates)  # --disable-features=...Mdns, fake-ui grant
    for candidate in host:
        decoded = candidate.decoded_priority
        assert decoded.component == candidate.component == 1  # rtcp-mux: no RTCP component
        if candidate.transport == "udp":
            assert decoded.type_preference == 126 and decoded.matches_type
        else:
            assert candidate.tcptype == "active" and candidate.port == 9  # RFC 6544 active


def test_cli_analyze_json(offer_text: str, tmp_path: Path) -> None:
    path = tmp_path / "offer.sdp"
    path.write_bytes(offer_text.encode("ascii"))
    result = subprocess.run(
        [str(RTCPROBE), "analyze", str(path), "--json"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report
    text = json.dumps(report)
    for name in ("VP8", "VP9", "AV1", "transport-cc"):
        assert name in text

"""Media quality the probe measures itself (rtcprobe.probe.media_quality), and codec reports per
m-line: the W3C freeze/pause rules on exact frame times, key-frame detection on payload bytes, and
real probe <-> serve sessions (aiortc both sides) with video and audio, a pause and a freeze made
by dropping every received RTP datagram for a while (rtcprobe.net, `down:rtploss=100%`)."""

from __future__ import annotations

import struct
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rtcprobe.capture import Capture, load
from rtcprobe.probe.media_quality import AudioIn, VideoIn
from rtcprobe.probe.mediamap import MediaMap
from rtcprobe.probe.options import PhaseTimeouts, ProbeOptions
from rtcprobe.probe.payloads import is_key as _is_key
from rtcprobe.probe.payloads import vp8_key_size as _vp8_key_size
from rtcprobe.probe.playout_model import PlayoutModel
from rtcprobe.probe.session import ProbeSession
from rtcprobe.probe.stats import StatsCollector
from rtcprobe.sdp import parse_description
from rtcprobe.server import ServerConfig, run_server

REALWORLD = Path(__file__).parent / "data" / "realworld" / "sdp"


# -- the rules, on exact times -----------------------------------------------------------------


def test_freeze_is_max_of_3x_avg_and_avg_plus_150ms() -> None:
    video = VideoIn()
    t = 0.0
    for _ in range(31):  # 30 delays of 100 ms: avg 100 ms, threshold max(300, 250) = 300 ms
        video.frame(t, 640, 480)
        t += 0.1
    video.frame(t - 0.1 + 0.299, 640, 480)  # 299 ms: not a freeze
    assert video.freezes == 0
    video.frame(video.last_t + 0.5, 640, 480)  # type: ignore[operator]  # 500 ms: a freeze
    assert (video.freezes, video.pauses) == (1, 0)
    assert video.freeze_s == pytest.approx(0.5)
    assert video.decoded == 33 and (video.width, video.height) == (640, 480)


def test_a_pause_is_5s_without_a_frame_and_not_also_a_freeze() -> None:
    video = VideoIn()
    for i in range(10):
        video.frame(i * 0.033, 320, 240)
    last = video.last_t
    video.frame(last + 6.0, 320, 240)  # type: ignore[operator]
    assert (video.pauses, video.freezes) == (1, 0)
    assert video.pause_s == pytest.approx(6.0)
    assert video.total_delay == pytest.approx(last + 6.0)  # type: ignore[operator]


def test_fps_counts_the_frames_decoded_in_the_last_second() -> None:
    video = VideoIn()
    for i in range(64):  # 32 fps on exact binary times: the window (now - 1 s, now] holds 32
        video.frame(i / 32, 320, 240)
    assert video.fps(63 / 32) == 32
    assert video.fps(63 / 32 + 0.5) == 16


def test_audio_level_is_rms_of_full_scale_and_energy_level_squared_times_duration() -> None:
    import numpy as np

    audio = AudioIn()
    square = np.full(960, 16384, dtype=np.int16)  # half scale: RMS 0.5
    audio.frame(square, 960, 48000)
    assert audio.level == pytest.approx(0.5)
    assert audio.energy == pytest.approx(0.25 * 0.02)
    assert (audio.samples, audio.duration) == (960, pytest.approx(0.02))
    audio.frame(np.zeros(960, dtype=np.int16), 960, 48000)
    assert audio.level == 0.0


def test_key_frames_from_vp8_and_h264_payloads() -> None:
    # VP8 (RFC 7741): descriptor X=1 S=1 PID=0, extension I=1 with a 15-bit picture id, then the payload header
    assert _is_key("video/vp8", bytes([0x90, 0x80, 0x81, 0x23, 0x10]))  # P bit 0: key frame
    assert not _is_key("video/vp8", bytes([0x90, 0x80, 0x81, 0x23, 0x11]))  # P bit 1: inter frame
    assert not _is_key("video/vp8", bytes([0x80, 0x80, 0x81, 0x23, 0x10]))  # S=0: not the first packet
    assert not _is_key("video/vp8", bytes([0x90, 0x80]))  # truncated: cannot tell, not a key frame
    assert _is_key("video/h264", bytes([0x65, 0x88]))  # IDR slice
    assert _is_key("video/h264", bytes([0x7C, 0x85, 0x00]))  # FU-A start of an IDR
    assert not _is_key("video/h264", bytes([0x7C, 0x05, 0x00]))  # FU-A continuation
    stap = bytes([0x78]) + struct.pack("!H", 2) + bytes([0x67, 0x42]) + struct.pack("!H", 2) + bytes([0x65, 0x88])
    assert _is_key("video/h264", stap)  # STAP-A: SPS then IDR
    assert not _is_key("video/h264", bytes([0x41, 0x9A]))  # non-IDR slice


def test_vp8_key_frame_header_gives_the_sent_size() -> None:
    # descriptor S=1 PID=0, frame tag (key frame: bit 0 clear), start code, 14-bit width and height (LE)
    key = bytes([0x10, 0x50, 0x2A, 0x01, 0x9D, 0x01, 0x2A]) + (320).to_bytes(2, "little") + (240).to_bytes(2, "little")
    assert _vp8_key_size(key) == (320, 240)
    assert _vp8_key_size(bytes([0x10, 0x51]) + key[2:]) is None  # an inter frame carries no size
    assert _vp8_key_size(key[:8]) is None  # truncated


# -- codec reports per m-line ------------------------------------------------------------------


def _rtp(pt: int, ssrc: int, seq: int, mid: bytes | None = None) -> bytes:
    ext = b""
    first = 0x80
    if mid is not None:  # one-byte header extension id 1 carrying the MID
        element = bytes([(1 << 4) | (len(mid) - 1)]) + mid
        element += b"\x00" * (-len(element) % 4)
        ext = struct.pack("!HH", 0xBEDE, len(element) // 4) + element
        first |= 0x10
    return struct.pack("!BBHII", first, pt, seq, 1000 * seq, ssrc) + ext + b"\x00" * 20


def test_one_payload_type_on_two_m_lines_is_two_codecs() -> None:
    media = MediaMap(mid_codecs={("0", 96): ("audio/opus", 48000), ("1", 96): ("video/VP8", 90000)},
                     mid_kinds={"0": "audio", "1": "video"}, mid_ext_ids={1})
    stats = StatsCollector(media=media)
    for seq in range(3):
        stats.observe("received", "rtp", _rtp(96, 11, seq, b"0"), seq * 0.02)
        stats.observe("received", "rtp", _rtp(96, 22, seq, b"1"), seq * 0.02)
    reports = stats.snapshot(1.0)
    codecs = {r["id"]: r for r in reports if r["type"] == "codec"}
    inbound = {r["ssrc"]: r for r in reports if r["type"] == "inbound-rtp"}
    assert codecs[inbound[11]["codecId"]]["mimeType"] == "audio/opus"
    assert codecs[inbound[22]["codecId"]]["mimeType"] == "video/VP8"
    assert codecs[inbound[22]["codecId"]]["clockRate"] == 90000
    assert (inbound[11]["kind"], inbound[22]["kind"]) == ("audio", "video")


def test_an_ambiguous_payload_type_without_mids_names_no_codec() -> None:
    # real SDP (clux/sdp-transform rtcp-fb.sdp): PT 96 is opus on the audio line and VP8 on the video line
    sdp = (REALWORLD / "sdptransform-rtcp-fb.sdp").read_text()
    media = MediaMap.from_descriptions(parse_description(sdp, source="rtcp-fb.sdp"))
    assert media.codec(None, 96) is None  # better no codec report than audio/opus for the video
    assert media.codec(None, 101) == ("audio/telephone-event", 48000)


# -- real sessions -----------------------------------------------------------------------------


@pytest.fixture
async def target() -> AsyncIterator[str]:
    runner, base_url = await run_server(ServerConfig(host="127.0.0.1", port=0))
    yield base_url + "/whip"
    await runner.cleanup()


async def capture(tmp_path: Path, url: str, name: str, **options: Any) -> Capture:
    opts = ProbeOptions(target=url, output=tmp_path / f"{name}.jsonl", protocol="whip", stats_interval=0.5,
                        **options)
    loaded = load((await ProbeSession(opts).run()).path)
    assert loaded.ok, loaded.diagnosis
    return loaded


def last(c: Capture, type_: str, kind: str) -> dict[str, Any]:
    return [r for r in c.of("stats")[-1]["reports"] if r["type"] == type_ and r.get("kind") == kind][0]


def series(c: Capture, kind: str, key: str) -> list[tuple[float, Any]]:
    return [(e["t"], r[key]) for e in c.of("stats") for r in e["reports"]
            if r["type"] == "inbound-rtp" and r.get("kind") == kind and key in r]


@pytest.mark.slow
async def test_video_and_audio_measured_on_a_session(target: str, tmp_path: Path) -> None:
    c = await capture(tmp_path, target, "av", video=True, video_size=(320, 240), fps=15, duration=4.0)
    video, audio = last(c, "inbound-rtp", "video"), last(c, "inbound-rtp", "audio")
    assert video["framesDecoded"] > 0 and video["keyFramesDecoded"] >= 1
    assert (video["frameWidth"], video["frameHeight"]) == (320, 240)  # what the probe sent, echoed
    assert video["framesReceived"] >= video["framesDecoded"] - video["framesDropped"] >= 0
    # framesPerSecond (frames in the last second) agrees with the same capture's decode rate
    rate = (video["framesDecoded"] - 1) / video["totalInterFrameDelay"]
    fps = [v for t, v in series(c, "video", "framesPerSecond") if t > 1.5]
    assert fps and abs(sum(fps) / len(fps) - rate) <= 0.35 * rate, (fps, rate)
    assert audio["totalSamplesReceived"] > 0 and 0 < audio["audioLevel"] <= 1
    assert audio["totalAudioEnergy"] <= audio["totalSamplesDuration"]
    assert audio["jitterBufferEmittedCount"] > 0 and audio["jitterBufferDelay"] > 0  # at least one packet's wait
    codecs = {r["id"]: r for r in c.of("stats")[-1]["reports"] if r["type"] == "codec"}
    for report in c.of("stats")[-1]["reports"]:  # each stream's codec is of its own kind
        if report["type"] in ("inbound-rtp", "outbound-rtp"):
            assert codecs[report["codecId"]]["mimeType"].split("/")[0] == report["kind"], report
    out = last(c, "outbound-rtp", "video")
    assert (out["frameWidth"], out["frameHeight"]) == (320, 240)
    assert out["framesEncoded"] == out["framesSent"] >= video["framesReceived"]  # serve echoes what it got
    assert out["targetBitrate"] > 0 and out["qualityLimitationReason"] in ("bandwidth", "none")
    silent = await capture(tmp_path, target, "silence", audio="silence", duration=2.0)
    assert last(silent, "inbound-rtp", "audio")["audioLevel"] < audio["audioLevel"]


@pytest.mark.slow
async def test_a_gap_over_5s_is_one_pause(target: str, tmp_path: Path) -> None:
    c = await capture(tmp_path, target, "pause", audio=None, video=True, video_size=(160, 120), fps=10,
                      impair=["at=1s,down:rtploss=100%", "at=7s,none"], duration=9.0,
                      timeouts=PhaseTimeouts(media=10.0))  # the session outlives the silence
    video = last(c, "inbound-rtp", "video")
    assert video["pauseCount"] == 1, video
    # the gap between the last frame before and the first after: 6 s of drop plus the wait for a frame
    assert 6.0 <= video["totalPausesDuration"] <= 6.0 + 1.5, video


@pytest.mark.slow
async def test_a_500ms_gap_is_a_freeze(target: str, tmp_path: Path) -> None:
    c = await capture(tmp_path, target, "freeze", audio=None, video=True, video_size=(160, 120), fps=10,
                      impair=["at=1.5s,down:rtploss=100%", "at=2s,none"], duration=4.0)
    video = last(c, "inbound-rtp", "video")
    assert video["freezeCount"] >= 1 and video["pauseCount"] == 0, video
    assert video["totalFreezesDuration"] >= 0.5, video


# -- the playout model (playout_model.py), on exact arrivals --------------------------------------


def test_playout_model_on_time_waits_one_packet_and_conceals_nothing() -> None:
    model = PlayoutModel(48000)
    for n in range(11):  # 20 ms Opus packets on time: each waits the one-packet minimum target
        model.packet(n, 960 * n, n / 50)
    assert (model.concealed, model.events) == (0, 0)
    assert model.emitted == 10 * 960  # the first packet: its length unknown (no step yet), not counted
    assert model.delay / model.emitted == pytest.approx(0.02)


def test_playout_model_conceals_lost_and_late_packets() -> None:
    model = PlayoutModel(48000)
    for n in range(5):
        model.packet(n, 960 * n, n / 50)
    model.packet(8, 960 * 8, 8 / 50)  # 5, 6, 7 lost: one event of 3 packets
    assert (model.concealed, model.events) == (3 * 960, 1)
    model.packet(9, 960 * 9, 9 / 50 + 0.1)  # 100 ms late: after its playout time
    assert (model.concealed, model.events) == (4 * 960, 2)
    model.packet(10, 960 * 10, 10 / 50)  # on time again
    model.packet(12, 960 * 13, 13 / 50)  # DTX-like jump with one lost packet: only its share
    assert model.concealed == 4 * 960 + 960 * 3 // 2 and model.events == 3


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.floats(0, 0.2)), min_size=1, max_size=400))
def test_playout_model_target_is_the_percentile_of_its_window(steps: list[tuple[int, float]]) -> None:
    """The sorted window kept beside the recent delays is exactly those delays, sorted: the 95th
    percentile is what sorting the window at every packet gave."""
    model, seq = PlayoutModel(48000), 0
    for gap, jitter in steps:
        seq += gap
        model.packet(seq & 0xFFFF, 960 * seq, seq / 50 + jitter)
        assert model._ordered == sorted(model._recent)


# -- against Chromium's own getStats (tests/chromium_far_end.py) ----------------------------------


@pytest.mark.slow
@pytest.mark.browser
async def test_frames_and_size_against_chromium(chromium: Any, tmp_path: Path) -> None:
    from chromium_far_end import run_session

    truth = await run_session(chromium, tmp_path / "chromium.jsonl")
    probe, sent = truth.probe("inbound-rtp", "video"), truth.browser("outbound-rtp", "video")
    assert (probe["frameWidth"], probe["frameHeight"]) == (sent["frameWidth"], sent["frameHeight"])
    # every frame aiortc's decoder handed on (counted on the track's queue by the harness), less
    # those still queued at the last stats sample
    assert 0 <= truth.frames["video"] - probe["framesDecoded"] <= 5, (truth.frames, probe)
    # Chromium sent more (it went on after the relay's quiet point), never fewer
    assert probe["framesDecoded"] <= sent["framesSent"]
    # key frames are seen inside RED (Chromium sends VP8 in RED): its first key frame at least
    assert 1 <= probe["keyFramesDecoded"] <= sent["keyFramesEncoded"]
    assert probe["framesReceived"] >= probe["framesDecoded"]

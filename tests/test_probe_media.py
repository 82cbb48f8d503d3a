"""Media sources and codec preferences."""

from __future__ import annotations

import asyncio
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from rtcprobe.probe.media import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    FileSource,
    SilenceSource,
    ToneSource,
    audio_source,
    prefer_codec,
    video_source,
)
from rtcprobe.sdp import parse_description


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE, channels: int = 1) -> Path:
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(samples.astype("<i2").tobytes())
    return path


async def test_1080p_at_1_fps_frames() -> None:
    track = video_source(size=(1920, 1080), fps=1, realtime=False)
    frames = [await track.recv() for _ in range(3)]
    assert {(f.width, f.height, f.format.name) for f in frames} == {(1920, 1080, "yuv420p")}
    assert [f.pts for f in frames] == [0, 90000, 180000] and frames[0].time_base == Fraction(1, 90000)
    luma = [f.to_ndarray()[:1080] for f in frames]
    assert not np.array_equal(luma[0], luma[1])  # the box moved and the counter changed


async def test_video_frames_encode_with_aiortc_vp8() -> None:
    frame = await video_source(size=(1920, 1080), fps=1, realtime=False).recv()
    encoder = get_encoder(RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96))
    payloads, timestamp = encoder.encode(frame, force_keyframe=True)
    assert payloads and timestamp == 0


async def test_other_sizes_and_rates() -> None:
    track = video_source(size=(320, 240), fps=30, realtime=False)
    frames = [await track.recv() for _ in range(2)]
    assert (frames[1].width, frames[1].height, frames[1].pts) == (320, 240, 3000)
    for size, fps in (((321, 240), 30), ((8, 8), 30), ((640, 480), 0)):
        with pytest.raises(ValueError, match="video"):
            video_source(size=size, fps=fps)


async def test_realtime_pacing_never_runs_ahead() -> None:
    track = video_source(size=(64, 48), fps=50)  # one frame per 20 ms
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(4):
        await track.recv()
    assert loop.time() - start >= 3 * 0.02 - 0.005  # frame 3 is due 60 ms after frame 0


async def test_tone_has_the_asked_frequency() -> None:
    track = audio_source("tone:1000", realtime=False)
    assert isinstance(track, ToneSource)
    frames = [await track.recv() for _ in range(50)]  # one second
    assert {(f.samples, f.sample_rate, f.format.name, f.layout.name) for f in frames} == {
        (FRAME_SAMPLES, SAMPLE_RATE, "s16", "mono")}
    assert [f.pts for f in frames[:3]] == [0, 960, 1920]
    signal = np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(float)
    assert np.argmax(np.abs(np.fft.rfft(signal))) == 1000  # 1 Hz bins over one second
    assert audio_source("tone").frequency == 440


async def test_silence_is_silent() -> None:
    track = audio_source("silence", realtime=False)
    assert isinstance(track, SilenceSource)
    assert not (await track.recv()).to_ndarray().any()


async def test_wav_source_loops(tmp_path: Path) -> None:
    ramp = np.arange(2400, dtype=np.int16) * 10  # 50 ms at 48 kHz
    track = audio_source(f"wav:{write_wav(tmp_path / 'ramp.wav', ramp)}", realtime=False)
    assert isinstance(track, FileSource) and track.loops == 0
    played = np.concatenate([(await track.recv()).to_ndarray().reshape(-1) for _ in range(6)])
    assert track.loops == 2
    assert np.array_equal(played, np.tile(ramp, 3)[:played.size])


def test_wav_is_converted_to_48k_mono(tmp_path: Path) -> None:
    stereo_16k = np.zeros(16000 * 2, dtype=np.int16)  # one second, two channels
    track = FileSource(write_wav(tmp_path / "s.wav", stereo_16k, rate=16000, channels=2), realtime=False)
    assert abs(track.data.size - SAMPLE_RATE) <= 64


@pytest.mark.parametrize("spec", ["noise", "tone:abc", "wav:", "silence:5", "tone:30000"])
def test_bad_audio_specs_say_what_is_expected(spec: str) -> None:
    with pytest.raises(ValueError, match="tone|frequency"):
        audio_source(spec)


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.wav", tmp_path / "junk.wav"):
        if path.name == "junk.wav":
            path.write_bytes(b"not audio at all" * 10)
        with pytest.raises(ValueError, match=path.name):
            audio_source(f"wav:{path}")


def offered_formats(pc: RTCPeerConnection, kind: str) -> list[str]:
    description = parse_description(pc.localDescription.sdp)
    return [c.name.lower() for c in next(m for m in description.media if m.kind == kind).codecs]


async def test_prefer_codec_orders_the_offer() -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        audio = pc.addTransceiver("audio")
        video = pc.addTransceiver("video")
        prefer_codec(audio, "pcmu")
        prefer_codec(video, "h264")
        await pc.setLocalDescription(await pc.createOffer())
        audio_codecs, video_codecs = offered_formats(pc, "audio"), offered_formats(pc, "video")
        assert audio_codecs[0] == "pcmu" and "opus" in audio_codecs
        assert video_codecs[0] == "h264" and "vp8" in video_codecs and "rtx" in video_codecs
    finally:
        await pc.close()


async def test_prefer_codec_only() -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    try:
        audio = pc.addTransceiver("audio")
        chosen = prefer_codec(audio, ["pcma"], only=True)
        assert [c.mimeType for c in chosen] == ["audio/PCMA"]
        await pc.setLocalDescription(await pc.createOffer())
        assert offered_formats(pc, "audio") == ["pcma"]
        with pytest.raises(ValueError, match="opus"):
            prefer_codec(audio, "g729")
    finally:
        await pc.close()

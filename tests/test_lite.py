"""`--lite` media: the encoded loop is the tone aiortc would have sent (decoded back, by level and
pitch), received media is counted but not decoded, and a lite session against serve carries audio
both ways with packet counters only (no decoded-media field, never a 0 standing for "not measured")."""

from __future__ import annotations

import fractions
from pathlib import Path

import av
import numpy as np
import pytest
from aiortc.codecs import PCMU_CODEC, get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from test_probe_e2e import probe, reports

from rtcprobe.probe import audio_level, lite
from rtcprobe.probe.media import FileSource, SilenceSource, TestPatternSource, ToneSource

OPUS = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)
VP8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
H264 = RTCRtpCodecParameters(mimeType="video/H264", clockRate=90000, payloadType=102,
                             parameters={"packetization-mode": "1", "profile-level-id": "42e01f"})
PCMU = RTCRtpCodecParameters(mimeType=PCMU_CODEC.mimeType, clockRate=8000, channels=1, payloadType=0)
DECODED_FIELDS = ("framesDecoded", "totalSamplesReceived", "audioLevel", "concealedSamples", "totalAudioEnergy")


def decode_opus(payloads: list[bytes], step: int) -> np.ndarray:
    """Opus packets through FFmpeg's decoder: the left channel, in int16 units."""
    decoder = av.CodecContext.create("opus", "r")
    decoder.sample_rate, decoder.layout = 48000, "stereo"
    out: list[np.ndarray] = []
    for index, payload in enumerate(payloads):
        packet = av.Packet(payload)
        packet.pts, packet.time_base = index * step, fractions.Fraction(1, 48000)
        for frame in decoder.decode(packet):
            pcm = frame.to_ndarray().astype(np.float64) * (32768 if frame.format.name.startswith("flt") else 1)
            out.append(pcm.reshape(-1, 2)[:, 0] if frame.format.is_packed else pcm[0])
    return np.concatenate(out)[4800:]  # the decoder's first 100 ms left out


def pitch_and_level(pcm: np.ndarray) -> tuple[float, float]:
    spectrum = np.abs(np.fft.rfft(pcm))
    return (float(np.fft.rfftfreq(len(pcm), 1 / 48000)[spectrum.argmax()]),
            float(20 * np.log10(np.sqrt(np.mean(np.square(pcm))) / 32768)))


def test_a_440_hz_tone_loops_every_5_frames_and_decodes_as_aiortc_live_encoding_does() -> None:
    tone = ToneSource(440.0, realtime=False)
    loop = lite.encoded_loop(tone, OPUS)
    assert loop is not None and len(loop.frames) == 5 and loop.step == 960
    assert [level for _, level in loop.frames] == [audio_level._aiortc_level(tone.frame_at(i)) for i in range(5, 10)]
    looped = decode_opus([loop.frames[i % 5][0][0] for i in range(100)], loop.step)  # 2 s
    encoder = get_encoder(OPUS)
    live = decode_opus([encoder.encode(tone.frame_at(i), False)[0][0] for i in range(100)], 960)
    (pitch, level), (live_pitch, live_level) = pitch_and_level(looped), pitch_and_level(live)
    assert pitch == pytest.approx(440, abs=1) and live_pitch == pytest.approx(440, abs=1)
    assert level == pytest.approx(live_level, abs=0.2)  # -18 dBFS a channel: 0.25 of full scale, upmixed at -3 dB


def test_loops_are_per_codec_and_only_of_what_repeats(tmp_path: Path) -> None:
    pcmu = lite.encoded_loop(ToneSource(1000.0, realtime=False), PCMU)
    assert pcmu is not None and pcmu.step == 160 and len(pcmu.frames) == 1 * 2  # 1 kHz repeats every frame
    silence = lite.encoded_loop(SilenceSource(realtime=False), OPUS)
    assert silence is not None and {level for _, level in silence.frames} == {-127}
    assert lite.encoded_loop(ToneSource(440.5, realtime=False), OPUS) is None  # no whole period within 5 s
    wav = tmp_path / "a.wav"
    with av.open(str(wav), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=48000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 4800), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 48000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    assert lite.encoded_loop(FileSource(wav, realtime=False), OPUS) is None  # a file is sent as it plays


@pytest.mark.parametrize("codec", [VP8, H264], ids=["vp8", "h264"])
def test_a_second_of_video_loops_from_a_key_frame_and_decodes_across_the_wrap(codec: RTCRtpCodecParameters) -> None:
    pattern = TestPatternSource((320, 240), 10.0, realtime=False)
    loop = lite.encoded_video_loop(pattern, codec).result()
    assert loop is not None and len(loop.frames) == 10 and loop.step == 9000
    decoder = av.CodecContext.create("libvpx" if codec is VP8 else "h264", "r")
    shown = []
    for index in range(25):  # two and a half loops, straight through the wraps
        packet = av.Packet(loop.frames[index % 10])
        packet.pts, packet.time_base = index * loop.step, fractions.Fraction(1, 90000)
        shown += [(f.width, f.height, f.key_frame) for f in decoder.decode(packet)]
    assert len(shown) >= 24 and all((width, height) == (320, 240) for width, height, _ in shown)
    if codec is VP8:  # RFC 6386 §9.1: the frame tag's first bit is 0 on a key frame
        assert [frame[0] & 1 == 0 for frame in loop.frames] == [True] + [False] * 9
    else:
        assert shown[0][2] and shown[10][2]  # each loop opens on a key frame


def test_each_sender_packetizes_the_loop_with_its_own_picture_ids() -> None:
    loop = lite.encoded_video_loop(TestPatternSource((320, 240), 10.0, realtime=False), VP8).result()
    assert loop is not None
    ids = []
    packer = get_encoder(VP8)
    for index in range(12):
        packet = av.Packet(loop.frames[index % 10])
        packet.pts, packet.time_base = index * loop.step, fractions.Fraction(1, 90000)
        payloads, _ = packer.pack(packet)
        ids.append(int.from_bytes(payloads[0][2:4], "big") & 0x7FFF)  # VP8 descriptor: X, I, 15-bit PictureID
    assert all((b - a) % (1 << 15) == 1 for a, b in zip(ids, ids[1:], strict=False))  # on across the wrap


def test_undecoded_frames_are_counted_and_the_stop_marker_passes() -> None:
    class Receiver:
        pass

    receiver = Receiver()
    count = lite.no_decoding(receiver)
    frames = receiver._RTCRtpReceiver__decoder_queue  # type: ignore[attr-defined]
    frames.put(("codec", "frame"))
    frames.put(("codec", "frame"))
    frames.put(None)
    assert count.frames == 2 and frames.get_nowait() is None and frames.empty()


@pytest.mark.slow
async def test_a_lite_session_sends_the_loop_and_counts_what_it_receives(serve, tmp_path: Path) -> None:
    base = await serve()
    capture = await probe(tmp_path, base + "/whip", video=True, video_size=(320, 240), fps=10.0, duration=2.0,
                          stats_interval=0.5, lite=True)
    assert capture.ok, capture.diagnosis
    for kind in ("audio", "video"):
        (inbound,) = reports(capture, "inbound-rtp", kind)
        (outbound,) = reports(capture, "outbound-rtp", kind)
        assert inbound["packetsReceived"] > 0 and outbound["packetsSent"] > 0
        assert not [name for name in DECODED_FIELDS if name in inbound]  # absent, not 0
    # serve decodes what it receives and echoes it: audio coming back means the loop decoded there
    (audio_out,) = reports(capture, "outbound-rtp", "audio")
    (audio_in,) = reports(capture, "inbound-rtp", "audio")
    assert audio_in["packetsReceived"] >= 0.8 * audio_out["packetsSent"]
    level_id = next(e.id for e in capture.offer.media[0].extensions if e.uri.endswith("ssrc-audio-level"))
    sent = [e for e in capture.of("extensions_seen") if e["direction"] == "sent" and e["ssrc"] == audio_out["ssrc"]]
    assert sent and level_id in sent[0]["ids"]  # the loop's packets carry their RFC 6465 level

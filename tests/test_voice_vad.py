"""The one VAD on the shipped utterances: it finds the speech where make_utterances.sh put it
(manifest.json: the silence padding and the sentence timing), within one frame; a pause inside
an answer is not its end; the stream API agrees with the offline one whatever the chunking; WAV
input is resampled and bad WAVs are one-line errors."""

from __future__ import annotations

import wave

import av
import numpy as np
import pytest

from rtcprobe.errors import InputError
from rtcprobe.voice import utterances
from rtcprobe.voice.vad import FRAME_MS, HANGOVER_MS, RATE, StreamingVad, frame_pcm, segments

FRAME = FRAME_MS / 1000


def _all() -> list[utterances.Utterance]:
    return utterances.shipped("user") + utterances.shipped("answer")


def test_shipped_utterances_are_48k_mono_and_small() -> None:
    shipped = _all()
    manifest = utterances.manifest()
    assert {u.name for u in shipped} == set(manifest)
    assert len(utterances.shipped("user")) >= 3
    for u in shipped:
        assert u.pcm.dtype == np.int16
        assert u.duration == pytest.approx(manifest[u.name]["duration"], abs=1e-4)  # the manifest rounds to 0.1 ms
        assert u.text == manifest[u.name]["text"]


@pytest.mark.parametrize("name", ["ask_time", "ask_table", "ask_rain", "answer"])
def test_vad_finds_the_generated_speech_boundaries(name: str) -> None:
    entry = utterances.manifest()[name]
    u = next(x for x in _all() if x.name == name)
    truth = entry["speech"]
    # one segment: the answer's pause (manifest pause_s) is shorter than the hangover
    assert len(u.speech) == 1
    assert u.speech_start == pytest.approx(truth[0][0], abs=FRAME)
    assert u.speech_end == pytest.approx(truth[-1][1], abs=FRAME)


def test_answer_pause_is_inside_speech_and_shorter_than_the_hangover() -> None:
    doc_pause = 0.40
    entry = utterances.manifest()["answer"]
    (_, end1), (start2, _) = entry["speech"]
    assert start2 - end1 == pytest.approx(doc_pause, abs=1e-3)
    assert doc_pause * 1000 < HANGOVER_MS
    # with a hangover shorter than the pause, the same detector splits it at the pause
    split = segments(utterances.answer().pcm, hangover_ms=200)
    assert len(split) == 2
    assert split[0].end == pytest.approx(end1, abs=FRAME)
    assert split[1].start == pytest.approx(start2, abs=FRAME)


def test_end_is_known_one_hangover_after_it() -> None:
    u = utterances.shipped("user")[0]
    vad = StreamingVad(hangover_ms=300)
    pcm = np.concatenate([u.pcm, np.zeros(RATE, dtype=np.int16)])  # a second of silence after
    events = vad.push(pcm, 10.0)
    assert [e.kind for e in events] == ["start", "end"]
    start, end = events
    assert start.t == pytest.approx(10.0 + u.speech_start, abs=1e-9)
    assert start.known_at == pytest.approx(start.t + 3 * FRAME)  # START_FRAMES voiced frames
    assert end.t == pytest.approx(10.0 + u.speech_end, abs=1e-9)
    assert end.known_at == pytest.approx(end.t + 0.3, abs=1e-9)


@pytest.mark.parametrize("chunk", [480, 960, 1000, 4801])
def test_streaming_agrees_with_offline_whatever_the_chunks(chunk: int) -> None:
    pcm = utterances.answer().pcm
    vad = StreamingVad()
    events = []
    for offset in range(0, pcm.size, chunk):
        events += vad.push(pcm[offset:offset + chunk], offset / RATE)
    events += vad.flush(pcm.size / RATE)
    offline = segments(pcm)
    assert [(e.t) for e in events] == pytest.approx([t for s in offline for t in (s.start, s.end)], abs=1e-9)


def test_aiortc_shaped_stereo_frames_are_downmixed() -> None:
    """aiortc decodes Opus to 48 kHz packed stereo s16: the same speech on both channels."""
    u = utterances.shipped("user")[1]
    vad_mono, vad_stereo = StreamingVad(), StreamingVad()
    mono_events, stereo_events = [], []
    for i, chunk in enumerate(u.frames()):
        frame = av.AudioFrame.from_ndarray(np.repeat(chunk, 2).reshape(1, -1), format="s16", layout="stereo")
        frame.sample_rate = RATE
        assert np.array_equal(frame_pcm(frame), chunk)
        stereo_events += vad_stereo.push_frame(frame, i * FRAME)
        mono_events += vad_mono.push(chunk, i * FRAME)
    assert stereo_events == mono_events
    assert [e.kind for e in stereo_events][:1] == ["start"]


def test_frames_at_another_rate_are_refused() -> None:
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 320), dtype=np.int16), format="s16", layout="mono")
    frame.sample_rate = 16000
    with pytest.raises(ValueError, match="expected 48000 Hz"):
        frame_pcm(frame)


def test_user_wav_at_16k_stereo_is_resampled(tmp_path) -> None:
    u = utterances.shipped("user")[0]
    path = tmp_path / "user.wav"
    pcm16 = u.pcm[::3]  # 48 kHz -> 16 kHz by decimation: speech stays where it was
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(np.repeat(pcm16, 2).tobytes())
    loaded = utterances.load(path)
    assert loaded.duration == pytest.approx(u.duration, abs=0.01)
    assert loaded.speech_start == pytest.approx(u.speech_start, abs=FRAME)
    assert loaded.speech_end == pytest.approx(u.speech_end, abs=FRAME)
    assert utterances.wav_segments(path) == loaded.speech


def test_directory_of_wavs_loads_in_name_order(tmp_path) -> None:
    for i, u in enumerate(utterances.shipped("user")[:2]):
        with wave.open(str(tmp_path / f"{i}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(u.pcm.tobytes())
    loaded = utterances.load_many([str(tmp_path)])
    assert [u.name for u in loaded] == ["0", "1"]


def _silent_wav(path) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(np.zeros(RATE, dtype=np.int16).tobytes())


@pytest.mark.parametrize("content, expected", [
    (b"hello, not audio", "not a WAV file"),
    (b"RIFF\x10\x00\x00\x00WAVEfmt \x02\x00\x00\x00", "WAV fmt chunk too short"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x80\xbb\x00\x00\x00\x77\x01\x00\x02\x00\x10\x00", "unreadable WAV"),
    (None, "no speech found"),
])
def test_bad_wavs_are_one_line_errors(tmp_path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "bad.wav"
    if content is None:
        _silent_wav(path)
    else:
        path.write_bytes(content)
    with pytest.raises(InputError) as info:
        utterances.load(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)


def _shipped_bytes() -> bytes:
    from importlib import resources

    return resources.files("rtcprobe.voice").joinpath("utterances", "ask_time.wav").read_bytes()


@pytest.mark.parametrize("damage, expected", [
    (lambda raw: raw[:22] + b"\x00\x00" + raw[24:], "WAV with 0 channels"),
    (lambda raw: raw[:24] + b"\x00\x00\x00\x00" + raw[28:], "at 0 Hz"),
    (lambda raw: raw[:34] + b"\x07\x00" + raw[36:], "WAV with 7-bit samples"),
    (lambda raw: raw[:20] + b"\x09\x00" + raw[22:], "sample format 0x9 not supported"),
    (lambda raw: raw[:12] + b"junk\x04\x00\x00\x00abcd", "without a fmt chunk"),
    (lambda raw: raw[:100], "less than 20 ms of audio"),
])
def test_damaged_headers_are_refused_not_decoded_as_noise(tmp_path, damage, expected: str) -> None:
    path = tmp_path / "damaged.wav"
    path.write_bytes(damage(_shipped_bytes()))
    with pytest.raises(InputError, match=expected):
        utterances.load(path)


def test_a_truncated_wav_is_what_it_still_holds(tmp_path) -> None:
    raw = _shipped_bytes()
    path = tmp_path / "half.wav"
    path.write_bytes(raw[: len(raw) // 2])
    half = utterances.load(path)
    assert half.duration == pytest.approx((len(raw) // 2 - 44) / 2 / RATE, abs=1e-3)
    assert half.speech_end == pytest.approx(half.duration, abs=2 * FRAME)  # cut inside the speech


def test_missing_wav_and_empty_directory(tmp_path) -> None:
    with pytest.raises(InputError, match="no such file"):
        utterances.load(tmp_path / "missing.wav")
    with pytest.raises(InputError, match="no .wav files"):
        utterances.load_many([str(tmp_path)])


def _opus_round_trip(pcm: np.ndarray) -> np.ndarray:
    """Through aiortc's own Opus encoder and decoder, 20 ms at a time: what a peer hears."""
    import fractions

    from aiortc.codecs.opus import OpusDecoder, OpusEncoder
    from aiortc.jitterbuffer import JitterFrame

    encoder, decoder, out = OpusEncoder(), OpusDecoder(), []
    padded = np.concatenate([pcm, np.zeros(-pcm.size % 960, dtype=np.int16)])
    for i, chunk in enumerate(padded.reshape(-1, 960)):
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, i * 960, fractions.Fraction(1, RATE)
        payloads, timestamp = encoder.encode(frame)
        for decoded in decoder.decode(JitterFrame(payloads[0], timestamp)):
            out.append(frame_pcm(decoded))
    return np.concatenate(out)


@pytest.mark.parametrize("name", ["ask_time", "ask_table", "ask_rain", "answer"])
def test_vad_on_opus_decoded_speech_matches_the_source(name: str) -> None:
    """The probe and the agent run the VAD on decoded Opus: the boundaries stay within a frame
    (the decoder's output lags its input by the 6.5 ms look-ahead), the answer stays one answer."""
    u = next(x for x in _all() if x.name == name)
    heard = segments(_opus_round_trip(u.pcm))
    assert len(heard) == 1
    assert heard[0].start == pytest.approx(u.speech_start, abs=1e-9)  # the onset is on the frame
    # the last 6.5 ms of speech come out in the next frame: at most one frame later
    assert 0 <= heard[0].end - u.speech_end <= FRAME + 1e-9


def test_faint_noise_is_not_speech() -> None:
    """An open microphone's hiss at -60 dBFS: webrtcvad alone calls its first ~100 ms speech."""
    noise = (np.random.default_rng(7).normal(0, 30, RATE * 3)).astype(np.int16)
    assert segments(noise) == []
    assert segments(_opus_round_trip(noise)) == []

"""The one voice-activity detector of rtcprobe: the probe finds the speech in what it sends and in
what it hears with it, and `serve --voice-agent` decides when the user stopped talking with it.

Why WebRTC's VAD (`webrtcvad-wheels`) and not Silero: Silero is what the best public V2V harness
uses and the better classifier on noisy, far-field speech. Its wheel (silero-vad 6.2.3, 11 MB)
does ship its models (ONNX and TorchScript, nothing is downloaded at run time), but it requires
torch (hundreds of MB) even for the ONNX model, runs at 8/16 kHz only (a resampler in front), and
costs, by its authors, under 1 ms per 30 ms chunk. WebRTC's GMM detector is a ~200 KB C extension
with no model, takes ~25 us of CPU per 20 ms frame here (level included; bench/voice_latency.py),
and is exact where rtcprobe measures: TTS or Opus-decoded speech against digital silence, comfort
noise or a quiet room, where onsets and ends land on the right 20 ms frame (tests/test_voice_vad.py,
shipped utterances through aiortc's Opus). Its weaknesses are handled here, not by the classifier:
a pause inside speech or a quiet consonant reads as non-speech frame by frame (the hangover), its
own 60-100 ms "overhang" after speech (QUIET_DB), and faint noise at a stream's start (FLOOR_DBFS).

Frames are 20 ms at 48 kHz: what aiortc decodes from Opus (one packet = one frame), so a detected
boundary is a packet boundary. Times are the caller's clock (seconds): a boundary is the start of
the first voiced frame or the end of the last one, never the moment the detector could tell.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import webrtcvad
from av import AudioFrame

RATE = 48000
FRAME_MS = 20
FRAME_SAMPLES = RATE * FRAME_MS // 1000

#: Silence that ends speech. 500 ms: longer than the pause between two sentences of one answer
#: (espeak-ng ~300 ms, people 200-450 ms), so an answer with a pause is one answer; the same as
#: OpenAI's default server-VAD silence_duration_ms, so the probe and an OpenAI-like agent cut turns
#: alike. It delays when the end is *known*, never the end time itself.
HANGOVER_MS = 500
#: Voiced frames in a row that start speech: 3 x 20 ms, so a click or one misclassified frame of
#: noise is not a turn. The start time is the first of them.
START_FRAMES = 3
#: A voiced frame this far under the loudest frame of its segment does not extend the speech.
#: webrtcvad keeps calling frames voiced for 60-100 ms after speech ends (its own "overhang"); on
#: TTS and decoded Opus those frames are silent (< -90 dBFS), so without this the end would be
#: ~100 ms late. Real speech tails stay well within 40 dB of the segment's peak; a noisy room's
#: floor does too, and then the end falls back to webrtcvad's (late by its overhang, never early).
QUIET_DB = 40.0
#: webrtcvad aggressiveness 0-3. 0: on Opus-decoded speech (what both sides hear) modes 2-3 find
#: a quiet onset 3 frames (60 ms) late and mode 1 sometimes does; mode 0 is on the frame. Its
#: weakness, calling noise speech, is covered by FLOOR_DBFS.
MODE = 0
#: A frame quieter than this is not speech whatever webrtcvad says: webrtcvad adapts its noise
#: model from nothing, so the first ~100 ms of a stream of faint noise (an open microphone, Opus
#: comfort noise) read as voiced. Decoded speech onsets are -40 dBFS and louder.
FLOOR_DBFS = -55.0


@dataclass(frozen=True)
class SpeechEvent:
    """A speech boundary: `t` is when it happened, `known_at` when the detector could say so
    (t for a start plus the frames it waited; t + hangover for an end)."""

    kind: Literal["start", "end"]
    t: float
    known_at: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def to_mono_int16(samples: np.ndarray, channels: int = 1) -> np.ndarray:
    """Interleaved int16 (or float in -1..1) PCM of `channels` channels -> mono int16, averaged."""
    data = np.asarray(samples)
    if data.dtype.kind == "f":
        data = np.clip(np.round(data * 32767.0), -32768, 32767)
    data = data.reshape(-1)
    if channels > 1:
        data = data[: data.size - data.size % channels].reshape(-1, channels).astype(np.int32).mean(axis=1)
    return np.asarray(data, dtype=np.int16)


def frame_pcm(frame: AudioFrame) -> np.ndarray:
    """An av.AudioFrame as aiortc decodes it (48 kHz, s16, packed stereo) -> 48 kHz mono int16.
    Other rates are refused: the detector's frames and times assume 48 kHz."""
    rate = frame.sample_rate
    if rate != RATE:
        raise ValueError(f"audio frame: expected {RATE} Hz, got {rate}")
    fmt = frame.format
    channels = len(frame.layout.channels)
    array = frame.to_ndarray()
    if fmt.is_planar:  # (channels, samples) -> interleaved
        array = array.T
    if fmt.name.startswith("s16"):
        return to_mono_int16(array, channels)
    if fmt.name.startswith("flt") or fmt.name.startswith("dbl"):
        return to_mono_int16(array.astype(np.float64), channels)
    raise ValueError(f"audio frame: expected s16 or float samples, got {fmt.name}")


class StreamingVad:
    """Feed it 48 kHz mono int16 PCM with the time of its first sample; it answers speech starts and
    ends. Chunks need not be frame-aligned: a frame's time is the time of its first sample.
    Speech ends at the end of its last loud voiced frame; the end is known `hangover_ms` later."""

    def __init__(self, *, hangover_ms: int = HANGOVER_MS, start_frames: int = START_FRAMES,
                 mode: int = MODE) -> None:
        if hangover_ms < FRAME_MS:
            raise ValueError(f"VAD hangover: expected at least {FRAME_MS} ms, got {hangover_ms}")
        self._vad = webrtcvad.Vad(mode)
        self.hangover = hangover_ms / 1000
        self.start_frames = max(1, start_frames)
        self.in_speech = False
        self.frames = 0  # frames classified so far
        self.voiced_frames = 0
        self._pending = np.zeros(0, dtype=np.int16)
        self._pending_t = 0.0
        self._run_start = 0.0  # first frame of the current voiced run
        self._run = 0
        self._peak_db = -math.inf  # loudest voiced frame of the current segment
        self._speech_end = 0.0  # end of the segment's last loud voiced frame

    def push(self, pcm: np.ndarray, t: float) -> list[SpeechEvent]:
        """Classify whole frames of `pcm` (mono int16) starting at time `t` (seconds)."""
        pcm = np.asarray(pcm, dtype=np.int16)
        if self._pending.size:  # the leftover comes first and keeps its own time
            start_t = self._pending_t
            pcm = np.concatenate([self._pending, pcm])
        else:
            start_t = t
        events: list[SpeechEvent] = []
        whole = pcm.size - pcm.size % FRAME_SAMPLES
        for offset in range(0, whole, FRAME_SAMPLES):
            events += self._frame(pcm[offset:offset + FRAME_SAMPLES], start_t + offset / RATE)
        self._pending = pcm[whole:]
        self._pending_t = start_t + whole / RATE
        return events

    def push_frame(self, frame: AudioFrame, t: float) -> list[SpeechEvent]:
        """An aiortc-decoded av.AudioFrame received (or played) at `t`."""
        return self.push(frame_pcm(frame), t)

    def flush(self, t: float) -> list[SpeechEvent]:
        """The stream ended at `t`: speech still open ends at its last loud voiced frame."""
        self._pending = np.zeros(0, dtype=np.int16)
        if not self.in_speech:
            return []
        self.in_speech = False
        return [SpeechEvent("end", self._speech_end, max(t, self._speech_end))]

    def _frame(self, pcm: np.ndarray, t: float) -> list[SpeechEvent]:
        level = level_db(pcm)
        voiced = level >= FLOOR_DBFS and self._vad.is_speech(pcm.tobytes(), RATE)
        self.frames += 1
        end = t + FRAME_MS / 1000
        if voiced:
            self.voiced_frames += 1
            if self._run == 0:
                self._run_start = t
            self._run += 1
            if self.in_speech:
                self._peak_db = max(self._peak_db, level)
                if level >= self._peak_db - QUIET_DB:
                    self._speech_end = end
            elif self._run >= self.start_frames:
                self.in_speech = True
                self._peak_db = level
                self._speech_end = end
                return [SpeechEvent("start", self._run_start, end)]
        else:
            self._run = 0
        if self.in_speech and end - self._speech_end >= self.hangover - 1e-9:
            self.in_speech = False
            return [SpeechEvent("end", self._speech_end, end)]
        return []


def level_db(pcm: np.ndarray) -> float:
    """RMS level of int16 PCM in dBFS (-inf for digital silence)."""
    power = float(np.mean(np.square(pcm, dtype=np.float64))) if pcm.size else 0.0
    return 10 * math.log10(power / 32768.0**2) if power > 0 else -math.inf


def segments(pcm: np.ndarray, *, t0: float = 0.0, hangover_ms: int = HANGOVER_MS,
             start_frames: int = START_FRAMES) -> list[Segment]:
    """The speech segments of 48 kHz mono int16 PCM, offline (same detector as the stream)."""
    vad = StreamingVad(hangover_ms=hangover_ms, start_frames=start_frames)
    events = vad.push(pcm, t0) + vad.flush(t0 + len(pcm) / RATE)
    return list(pair_events(events))


def pair_events(events: Iterable[SpeechEvent]) -> Iterator[Segment]:
    start: float | None = None
    for event in events:
        if event.kind == "start":
            start = event.t
        elif start is not None:
            yield Segment(start, event.t)
            start = None

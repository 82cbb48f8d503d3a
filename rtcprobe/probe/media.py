"""Media the probe sends: audio (tone, silence, a looped file) and a moving video test pattern.

Every source is an aiortc MediaStreamTrack paced in real time from its own timestamps (frame n is
due at start + n * duration), so a slow encoder delays frames but never changes the rate; pass
``realtime=False`` to get frames as fast as they are asked for (tests, benchmarks).
Audio: 48 kHz mono s16, 20 ms frames. Video: yuv420p (what aiortc's encoders take), 90 kHz pts,
any even size and any frame rate, 1920x1080 at 1 fps included: a frame costs one copy of a
precomputed picture plus a small box and a counter.
"""

from __future__ import annotations

import asyncio
import fractions
import math
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
from aiortc import RTCRtpSender, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpCodecCapability

from . import audio_level

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms
AUDIO_TIME_BASE = fractions.Fraction(1, SAMPLE_RATE)
MAX_LOOP_FRAMES = 250  # 5 s: the longest audio loop `--lite` encodes once (AudioSource.loop_frames)
VIDEO_CLOCK = 90000
VIDEO_TIME_BASE = fractions.Fraction(1, VIDEO_CLOCK)

audio_level.install()  # the senders' per-packet audio level, in numpy (audio_level.py says why)


class _PacedTrack(MediaStreamTrack):
    """Waits until frame `index` is due: start + index * period (loop clock)."""

    def __init__(self, period: float, realtime: bool) -> None:
        super().__init__()
        self.period = period
        self.realtime = realtime
        self.frames = 0
        self._start: float | None = None

    async def next_index(self) -> int:
        if self.readyState != "live":
            raise MediaStreamError
        index = self.frames
        if self.realtime:
            loop = asyncio.get_running_loop()
            if self._start is None:
                self._start = loop.time()
            delay = self._start + index * self.period - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        self.frames += 1
        return index


class AudioSource(_PacedTrack):
    """20 ms frames of 48 kHz mono s16 from `samples(first, count)`; subclasses say what."""

    kind = "audio"

    def __init__(self, realtime: bool = True) -> None:
        super().__init__(FRAME_SAMPLES / SAMPLE_RATE, realtime)

    def samples(self, first: int, count: int) -> np.ndarray:
        return np.zeros(count, dtype=np.int16)

    def loop_frames(self) -> int | None:
        """Frames after which the samples repeat exactly, when few (`--lite` encodes them once); None otherwise."""
        return None

    async def recv(self) -> av.AudioFrame:
        return self.frame_at(await self.next_index())

    def frame_at(self, index: int) -> av.AudioFrame:
        """Frame `index` (pts index x 20 ms), at once: `recv` paces, this does not."""
        pts = index * FRAME_SAMPLES
        frame = av.AudioFrame.from_ndarray(self.samples(pts, FRAME_SAMPLES).reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = pts
        frame.time_base = AUDIO_TIME_BASE
        return frame


class SilenceSource(AudioSource):
    """Digital silence (what a muted microphone sends)."""

    def loop_frames(self) -> int | None:
        return 1


class ToneSource(AudioSource):
    """A continuous sine tone; `level` is the amplitude as a fraction of full scale."""

    def __init__(self, frequency: float = 440.0, level: float = 0.25, realtime: bool = True) -> None:
        super().__init__(realtime)
        if not 0 < frequency < SAMPLE_RATE / 2:
            raise ValueError(f"tone frequency must be within 0..{SAMPLE_RATE // 2} Hz, got {frequency:g}")
        self.frequency = frequency
        self._amplitude = level * 32767
        self._step = 2 * math.pi * frequency / SAMPLE_RATE

    def samples(self, first: int, count: int) -> np.ndarray:
        n = np.arange(first, first + count, dtype=np.float64)
        return (np.sin(n * self._step) * self._amplitude).astype(np.int16)

    def loop_frames(self) -> int | None:
        """A whole number of Hz repeats every 48000 / gcd(48000, Hz) samples (440 Hz: 1200, 5 frames)."""
        if self.frequency != int(self.frequency):
            return None
        period = SAMPLE_RATE // math.gcd(SAMPLE_RATE, int(self.frequency))
        frames = math.lcm(period, FRAME_SAMPLES) // FRAME_SAMPLES
        return frames if frames <= MAX_LOOP_FRAMES else None


class FileSource(AudioSource):
    """An audio file (WAV, or anything FFmpeg reads), converted to 48 kHz mono, looped forever."""

    def __init__(self, path: str | Path, realtime: bool = True) -> None:
        super().__init__(realtime)
        self.path = Path(path)
        self.data = load_audio(self.path)

    @property
    def loops(self) -> int:
        """How many times the file has wrapped around so far."""
        return self.frames * FRAME_SAMPLES // len(self.data)

    def samples(self, first: int, count: int) -> np.ndarray:
        return np.take(self.data, np.arange(first, first + count), mode="wrap")


def load_audio(path: Path) -> np.ndarray:
    """The file's audio as 48 kHz mono int16 samples; ValueError naming the file otherwise."""
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise ValueError(f"{path}: cannot be read as audio ({exc})") from None
    chunks: list[np.ndarray] = []
    with container:
        if not container.streams.audio:
            raise ValueError(f"{path}: has no audio stream")
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        try:
            for frame in container.decode(audio=0):
                chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            chunks += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
        except av.FFmpegError as exc:
            raise ValueError(f"{path}: audio could not be decoded ({exc})") from None
    data = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    if not data.size:
        raise ValueError(f"{path}: holds no audio samples")
    return data


def check_audio_spec(spec: str) -> tuple[str, str]:
    """(kind, argument) of "tone", "tone:FREQ" (Hz), "silence" or "wav:PATH"; ValueError saying
    what was expected, before any session starts (a WAV file must exist; it is decoded later)."""
    name, _, arg = spec.partition(":")
    name = name.strip().lower()
    if name == "tone":
        try:
            frequency = float(arg) if arg else 440.0
        except ValueError:
            raise ValueError(f"audio source {spec!r}: tone frequency must be a number of Hz") from None
        if not 0 < frequency < SAMPLE_RATE / 2:
            raise ValueError(f"audio source {spec!r}: tone frequency must be within 0..{SAMPLE_RATE // 2} Hz")
        return name, arg
    if name == "silence" and not arg:
        return name, arg
    if name == "wav" and arg:
        if not Path(arg).is_file():
            raise ValueError(f"audio source {spec!r}: no such file {arg}")
        return name, arg
    raise ValueError(f"audio source {spec!r}: expected tone, tone:HZ, silence or wav:PATH")


def audio_source(spec: str, realtime: bool = True) -> AudioSource:
    """The source `check_audio_spec` accepts."""
    name, arg = check_audio_spec(spec)
    if name == "tone":
        return ToneSource(float(arg) if arg else 440.0, realtime=realtime)
    if name == "silence":
        return SilenceSource(realtime)
    return FileSource(arg, realtime=realtime)


# -- video ---------------------------------------------------------------------------------

#: 75 % colour bars in BT.601 limited-range YUV: white, yellow, cyan, green, magenta, red, blue.
BARS_YUV = ((180, 128, 128), (162, 44, 142), (131, 156, 44), (112, 72, 58),
            (84, 184, 198), (65, 100, 212), (35, 212, 114))

#: 3x5 digits, one string of 15 pixels per digit (row by row).
DIGITS = ("111101101101111", "010110010010111", "111001111100111", "111001111001111",
          "101101111001001", "111100111001111", "111100111101111", "111001001001001",
          "111101111101111", "111101111001111")


class TestPatternSource(_PacedTrack):
    """Colour bars, a box that crosses the picture every 4 seconds, and the frame number."""

    kind = "video"
    __test__ = False  # not a pytest test class, despite the name

    def __init__(self, size: tuple[int, int] = (1280, 720), fps: float = 30.0,
                 realtime: bool = True) -> None:
        check_video(size, fps)
        width, height = size
        super().__init__(1 / fps, realtime)
        self.size, self.fps = (width, height), fps
        self._base = _bars(width, height)
        self._buffer = np.empty_like(self._base)
        self._box = max(2, height // 8) & ~1
        self._scale = max(1, height // 60)
        self._glyphs = [np.array([int(c) for c in d], dtype=bool).reshape(5, 3) for d in DIGITS]

    async def recv(self) -> av.VideoFrame:
        return self.frame_at(await self.next_index())

    def frame_at(self, index: int) -> av.VideoFrame:
        """Frame `index`, at once: `recv` paces, this does not."""
        width, height = self.size
        buffer = self._buffer
        np.copyto(buffer, self._base)
        y = buffer[:height]
        u = buffer[height:height + height // 4].reshape(height // 2, width // 2)
        v = buffer[height + height // 4:].reshape(height // 2, width // 2)
        # the box: left to right across the bars in 4 s, whatever the frame rate
        box = self._box
        x = int(((index / self.fps) % 4) / 4 * (width - box)) & ~1
        top = (height * 2 // 3 - box) // 2 & ~1
        y[top:top + box, x:x + box] = 235
        u[top // 2:(top + box) // 2, x // 2:(x + box) // 2] = 128
        v[top // 2:(top + box) // 2, x // 2:(x + box) // 2] = 128
        self._draw_number(y, index)
        frame = av.VideoFrame.from_ndarray(buffer, format="yuv420p")
        frame.pts = round(index * VIDEO_CLOCK / self.fps)
        frame.time_base = VIDEO_TIME_BASE
        return frame

    def _draw_number(self, y: np.ndarray, number: int) -> None:
        """White digits in the black band at the bottom."""
        s = self._scale
        top = y.shape[0] - 7 * s
        left = s
        for char in str(number):
            glyph = np.kron(self._glyphs[int(char)], np.ones((s, s), dtype=bool))
            area = y[top:top + 5 * s, left:left + 3 * s]
            if area.shape != glyph.shape:
                return  # the picture is too narrow for more digits
            area[glyph] = 235
            left += 4 * s


def _bars(width: int, height: int) -> np.ndarray:
    """The still part, as one yuv420p buffer (height * 3/2 rows of `width`): bars on the top
    two thirds, a black band below."""
    y = np.full((height, width), 16, dtype=np.uint8)
    u = np.full((height // 2, width // 2), 128, dtype=np.uint8)
    v = np.full((height // 2, width // 2), 128, dtype=np.uint8)
    bars_bottom = height * 2 // 3 & ~1
    edges = [round(i * width / len(BARS_YUV)) & ~1 for i in range(len(BARS_YUV) + 1)]
    for (luma, cb, cr), left, right in zip(BARS_YUV, edges, edges[1:], strict=False):
        y[:bars_bottom, left:right] = luma
        u[:bars_bottom // 2, left // 2:right // 2] = cb
        v[:bars_bottom // 2, left // 2:right // 2] = cr
    return np.concatenate([y.reshape(-1), u.reshape(-1), v.reshape(-1)]).reshape(height * 3 // 2, width)


def check_video(size: tuple[int, int], fps: float) -> None:
    """ValueError unless the test pattern can be made at `size` (even, >= 16) and `fps` (0..120]."""
    width, height = size
    if width < 16 or height < 16 or width % 2 or height % 2:
        raise ValueError(f"video size {width}x{height}: width and height must be even and >= 16")
    if not 0 < fps <= 120:
        raise ValueError(f"video frame rate must be within 0..120 fps, got {fps:g}")


def video_source(size: tuple[int, int] = (1280, 720), fps: float = 30.0,
                 realtime: bool = True) -> TestPatternSource:
    """The moving test pattern at `size` (width, height) and `fps`."""
    return TestPatternSource(size, fps, realtime)


# -- codecs --------------------------------------------------------------------------------

def prefer_codec(transceiver: RTCRtpTransceiver, names: str | Sequence[str],
                 only: bool = False) -> list[RTCRtpCodecCapability]:
    """Put the named codecs ("opus", "pcmu", "pcma", "vp8", "h264") first in the offer, in that
    order. The others stay behind them unless `only`: an answer then still shows which fallbacks
    the peer accepts. RTX stays for video. Returns the preference list set on the transceiver."""
    wanted = [names] if isinstance(names, str) else list(names)
    capabilities = RTCRtpSender.getCapabilities(transceiver.kind).codecs
    subtype = lambda codec: codec.mimeType.split("/", 1)[1].lower()  # noqa: E731
    chosen: list[RTCRtpCodecCapability] = []
    for name in wanted:
        matches = [c for c in capabilities if subtype(c) == name.strip().lower()]
        if not matches:
            offered = sorted({subtype(c) for c in capabilities} - {"rtx"})
            raise ValueError(f"{transceiver.kind} codec {name!r} is not one aiortc sends "
                             f"(choose from {', '.join(offered)})")
        chosen += [c for c in matches if c not in chosen]
    rest = [c for c in capabilities if c not in chosen and (not only or subtype(c) == "rtx")]
    preferences = chosen + rest
    transceiver.setCodecPreferences(preferences)
    return preferences

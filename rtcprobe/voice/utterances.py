"""Speech to speak and to answer with: the utterances rtcprobe ships (espeak-ng, from sentences
written for it: make_utterances.sh) and the user's own WAV files, as 48 kHz mono int16 PCM with
their speech boundaries found once, by the one VAD (vad.py), when loaded."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import av
import numpy as np

from .. import limits
from ..errors import InputError, open_input
from .vad import FRAME_SAMPLES, RATE, Segment, segments

_PACKAGE = "rtcprobe.voice"
_FOLDER = "utterances"


@dataclass
class Utterance:
    """One utterance: its PCM (48 kHz mono int16) and where the VAD heard speech in it."""

    name: str
    pcm: np.ndarray
    source: str
    text: str | None = None
    speech: list[Segment] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.pcm.size / RATE

    @property
    def speech_start(self) -> float | None:
        """Seconds from the first sample to the first voiced frame (None: no speech heard)."""
        return self.speech[0].start if self.speech else None

    @property
    def speech_end(self) -> float | None:
        """Seconds from the first sample to the end of the last voiced frame."""
        return self.speech[-1].end if self.speech else None

    def frames(self) -> list[np.ndarray]:
        """The PCM in 20 ms frames (the last one padded with silence): what a sender sends."""
        padded = np.concatenate([self.pcm, np.zeros(-self.pcm.size % FRAME_SAMPLES, dtype=np.int16)])
        return list(padded.reshape(-1, FRAME_SAMPLES))


def read_wav(path: str | Path) -> np.ndarray:
    """A WAV file (any PCM or float sample format, rate and channel count ffmpeg reads) as 48 kHz
    mono int16, or an InputError naming the file in one line."""
    source = str(path)
    with open_input(path) as f:
        data = f.read()
    if data[:4] not in (b"RIFF", b"RF64") or data[8:12] != b"WAVE":
        raise InputError("not a WAV file (expected a RIFF/WAVE header)", source)
    problem = _fmt_problem(data)
    if problem:
        raise InputError(problem, source)
    try:
        container = av.open(io.BytesIO(data), format="wav")
    except (av.error.FFmpegError, ValueError) as exc:
        raise InputError(f"unreadable WAV: {_reason(exc)}", source) from None
    try:
        if not container.streams.audio:
            raise InputError("WAV without an audio stream", source)
        resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        parts: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    parts.append(out.to_ndarray().reshape(-1))
                    total += parts[-1].size
                if total > limits.MAX_UTTERANCE_SECONDS * RATE:
                    raise InputError(f"longer than {limits.MAX_UTTERANCE_SECONDS:g} s (expected one utterance)", source)
            for out in resampler.resample(None):
                parts.append(out.to_ndarray().reshape(-1))
        except (av.error.FFmpegError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(f"unreadable WAV audio: {_reason(exc)}", source) from None
    finally:
        container.close()
    pcm = np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, dtype=np.int16)
    if pcm.size < FRAME_SAMPLES:
        raise InputError("WAV with less than 20 ms of audio (expected an utterance)", source)
    return pcm


#: WAVE format tags ffmpeg decodes that are audio samples: PCM, IEEE float, A-law, mu-law, extensible.
_FORMATS = {1: (8, 16, 24, 32), 3: (32, 64), 6: (8,), 7: (8,), 0xFFFE: (8, 16, 24, 32, 64)}


def _fmt_problem(data: bytes) -> str | None:
    """What is wrong with the `fmt ` chunk, in words (None: nothing), so that a damaged header is
    refused rather than decoded as noise."""
    offset = 12
    while offset + 8 <= len(data):
        chunk, size = data[offset:offset + 4], int.from_bytes(data[offset + 4:offset + 8], "little")
        if chunk == b"fmt ":
            if size < 16 or offset + 24 > len(data):
                return "WAV fmt chunk too short (expected 16 bytes or more)"
            tag, channels, rate = (int.from_bytes(data[offset + 8 + a:offset + 8 + b], "little")
                                   for a, b in ((0, 2), (2, 4), (4, 8)))
            bits = int.from_bytes(data[offset + 22:offset + 24], "little")
            if tag not in _FORMATS:
                return f"WAV sample format {tag:#x} not supported (expected PCM, float, A-law or mu-law)"
            if bits not in _FORMATS[tag]:
                return f"WAV with {bits}-bit samples (expected {', '.join(map(str, _FORMATS[tag]))})"
            if not 1 <= channels <= 8 or not 1000 <= rate <= 384000:
                return f"WAV with {channels} channels at {rate} Hz (expected 1-8 channels at 1-384 kHz)"
            return None
        offset += 8 + size + (size & 1)
    return "WAV without a fmt chunk (expected one before the audio)"


def _reason(exc: Exception) -> str:
    text = str(getattr(exc, "strerror", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def load(path: str | Path, *, text: str | None = None) -> Utterance:
    """A user's WAV file as an utterance. A file with no speech the VAD can hear is an error:
    a turn without speech has no end of speech to measure from."""
    pcm = read_wav(path)
    found = segments(pcm)
    if not found:
        raise InputError("no speech found in the WAV (the VAD heard none; expected spoken words)", str(path))
    return Utterance(name=Path(path).stem, pcm=pcm, source=str(path), text=text, speech=found)


def load_many(paths: list[str]) -> list[Utterance]:
    """Files as given, and the *.wav of each directory in name order."""
    out: list[Utterance] = []
    for item in paths:
        folder = Path(item)
        if folder.is_dir():
            wavs = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".wav")
            if not wavs:
                raise InputError("no .wav files in the directory (expected utterances)", item)
            out += [load(p) for p in wavs]
        else:
            out.append(load(item))
    return out


def manifest() -> dict[str, dict]:
    """The shipped utterances' manifest: name -> text, role and the speech timing they were made with."""
    text = resources.files(_PACKAGE).joinpath(_FOLDER, "manifest.json").read_text(encoding="utf-8")
    return json.loads(text)["utterances"]


def shipped(role: str = "user") -> list[Utterance]:
    """The shipped utterances of a role ("user": questions the probe asks; "answer": the agent's)."""
    out = []
    for name, entry in manifest().items():
        if entry["role"] != role:
            continue
        with resources.as_file(resources.files(_PACKAGE).joinpath(_FOLDER, f"{name}.wav")) as path:
            out.append(load(path, text=entry["text"]))
        out[-1].source = f"rtcprobe:{name}"
    return out


def answer() -> Utterance:
    """The reference agent's answer: two sentences with a pause between them."""
    return shipped("answer")[0]


def wav_segments(path: str | Path) -> list[Segment]:
    """Speech segments of a WAV file (seconds from its start), by the one VAD."""
    return segments(read_wav(path))

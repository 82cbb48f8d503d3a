"""The numpy audio level equals aiortc's own, to the integer, on every kind of frame it meets."""

from __future__ import annotations

import numpy as np
import pytest
from av import AudioFrame
from hypothesis import given, settings
from hypothesis import strategies as st

from rtcprobe.probe import audio_level


def frame_of(samples: np.ndarray, layout: str, rate: int) -> AudioFrame:
    frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout=layout)
    frame.sample_rate = rate
    return frame


@pytest.mark.parametrize(("layout", "channels", "rate", "count"),
                         [("mono", 1, 48000, 960), ("stereo", 2, 48000, 960), ("mono", 1, 8000, 160),
                          ("mono", 1, 16000, 320), ("stereo", 2, 48000, 1920), ("mono", 1, 48000, 7)])
@pytest.mark.parametrize("amplitude", [0, 1, 3, 100, 3000, 32767])
def test_equal_to_aiortc_on_tones_and_silence(layout: str, channels: int, rate: int, count: int, amplitude: int) -> None:
    t = np.arange(count * channels)
    samples = (amplitude * np.sin(2 * np.pi * 440 * t / rate)).astype(np.int16)
    frame = frame_of(samples, layout, rate)
    assert audio_level.audio_level_dbov(frame) == audio_level._aiortc_level(frame)


def test_full_scale_square_wave_is_0_and_silence_is_minus_127() -> None:
    loud = frame_of(np.array([32767, -32767] * 480, dtype=np.int16), "mono", 48000)
    quiet = frame_of(np.zeros(960, dtype=np.int16), "mono", 48000)
    assert (audio_level.audio_level_dbov(loud), audio_level.audio_level_dbov(quiet)) == (0, -127)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(-32768, 32767), min_size=1, max_size=1920), st.sampled_from(["mono", "stereo"]))
def test_equal_to_aiortc_on_any_samples(values: list[int], layout: str) -> None:
    if layout == "stereo" and len(values) % 2:
        values = values[:-1] or [0, 0]
    frame = frame_of(np.array(values, dtype=np.int16), layout, 48000)
    assert audio_level.audio_level_dbov(frame) == audio_level._aiortc_level(frame)


def test_installed_for_the_senders() -> None:
    from aiortc import rtp

    import rtcprobe.probe.media  # noqa: F401 - importing the media sources installs it
    assert rtp.compute_audio_level_dbov is audio_level.audio_level_dbov

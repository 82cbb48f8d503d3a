"""aiortc's decoder queue, replaced: a receiver's complete encoded frames go elsewhere than its decoder.

aiortc's RTCRtpReceiver puts each frame its jitter buffer completes on a queue that a decoder
thread reads; `receive()` hands that queue to the thread, so the replacement must be in place
before negotiation. The jitter buffer, NACK, PLI and reports are untouched. Used by `--lite` (frames
counted, not decoded) and by `serve --echo packets` (frames echoed as they are).
"""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import Any


class DivertedFrames(queue.Queue):
    """Each `(codec, frame)` goes to `on_frame`; the stop marker (None) still reaches the decoder
    thread, which then ends. aiortc puts frames from the event loop's thread."""

    def __init__(self, on_frame: Callable[[Any, Any], None]) -> None:
        super().__init__()
        self.on_frame = on_frame

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        if item is None:
            super().put(item, block, timeout)
        else:
            self.on_frame(*item)


def divert_frames(receiver: Any, on_frame: Callable[[Any, Any], None]) -> DivertedFrames:
    """Send `receiver`'s complete frames to `on_frame` instead of its decoder. Call before negotiation."""
    frames = DivertedFrames(on_frame)
    receiver._RTCRtpReceiver__decoder_queue = frames
    return frames

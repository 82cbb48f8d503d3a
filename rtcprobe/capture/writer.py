"""Append-only JSON Lines writer: every line flushed, every line redacted.

A crash or Ctrl-C at any moment leaves a file whose complete lines all load.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import aiortc

from .. import __version__
from ..redact import redact, redact_bytes, redact_cut, redact_url
from . import events

#: Data-channel payloads longer than this are cut in the capture; the size is kept.
MESSAGE_LIMIT = 4096


def truncate_message(data: str | bytes, limit: int = MESSAGE_LIMIT) -> dict[str, Any]:
    """Fields for a `dc_message` event: size in bytes, text (or hex for binary), truncated flag.
    Scrubbed before the cut (a token the cut splits would leave its first characters) and before
    the hex (which no later scrub could read)."""
    binary = isinstance(data, bytes | bytearray)
    size = len(data) if binary else len(data.encode("utf-8", errors="surrogatepass"))
    text = redact_bytes(data, limit).hex() if binary else redact_cut(data, limit)
    return {"size": size, "binary": binary, "data": text, "truncated": (len(data) > limit)}


def capture_header(*, target: str, protocol: str, options: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The header line of a capture; `extra` may override the start (an import's wall clock) or add an id."""
    now = datetime.now(UTC)
    return {
        "event": events.HEADER, "t": 0.0, "schema": events.SCHEMA, "rtcprobe": __version__,
        "aiortc": aiortc.__version__, "target": redact_url(target), "protocol": protocol,
        "options": options, "started_at": now.isoformat(), "started_at_epoch": now.timestamp(), **extra,
    }


class CaptureWriter:
    """Writes the header at open, then one redacted event per `write` call."""

    def __init__(self, path: str | Path, *, target: str, protocol: str, options: dict[str, Any],
                 **header_extra: Any) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._start = time.monotonic()
        self._file: TextIO | None = self.path.open("w", encoding="utf-8")
        self.header = capture_header(target=target, protocol=protocol, options=options, **header_extra)
        self._emit(self.header)

    @property
    def start(self) -> float:
        """The monotonic instant that `t` counts from."""
        return self._start

    def now(self) -> float:
        return time.monotonic() - self._start

    def write(self, event: str, t: float | None = None, **fields: Any) -> dict[str, Any]:
        record = {"event": event, "t": round(self.now() if t is None else t, 6), **fields}
        self._emit(record)
        return record

    def _emit(self, record: dict[str, Any]) -> None:
        if self._file is None:
            return
        self._file.write(json.dumps(redact(record), ensure_ascii=False, default=str) + "\n")
        self._file.flush()

    @property
    def closed(self) -> bool:
        return self._file is None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

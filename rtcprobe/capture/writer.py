"""Append-only JSON Lines writer: every line written whole, every line redacted.

A crash, a kill or a full disk at any moment leaves a file whose lines are all complete and all
load (`rtcprobe.outputs.LiveFile`); an earlier file of the same name is replaced only at the end.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiortc

from .. import __version__
from ..outputs import LiveFile, OutputError
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


#: What is still tried after a write failed (the disk filled): the session's last words, if they fit.
AFTER_FAILURE = (events.ERROR, events.END)


class CaptureWriter:
    """Writes the header at open, then one redacted event per `write` call.

    The output is checked when the writer is made (OutputError, nothing written). When a later line
    does not fit, `on_failure` is told once and only `error`/`end` events are tried after it; without
    `on_failure` the file is removed and the OutputError raised (an import is all or nothing)."""

    def __init__(self, path: str | Path, *, target: str, protocol: str, options: dict[str, Any],
                 on_failure: Callable[[OutputError], None] | None = None, **header_extra: Any) -> None:
        self._start = time.monotonic()
        self._file = LiveFile(path, keep=on_failure is not None)
        self.path = self._file.path
        self._on_failure = on_failure
        self.dropped = 0  # events that did not fit after a failure
        self.header = capture_header(target=target, protocol=protocol, options=options, **header_extra)
        self._emit(self.header)

    @property
    def start(self) -> float:
        """The monotonic instant that `t` counts from."""
        return self._start

    @property
    def failure(self) -> OutputError | None:
        """Why the file stopped taking lines (a full disk), or None."""
        return self._file.failure

    @property
    def lines(self) -> int:
        """Complete lines in the file."""
        return self._file.lines

    def now(self) -> float:
        return time.monotonic() - self._start

    def write(self, event: str, t: float | None = None, **fields: Any) -> dict[str, Any]:
        record = {"event": event, "t": round(self.now() if t is None else t, 6), **fields}
        self._emit(record)
        return record

    def _emit(self, record: dict[str, Any]) -> None:
        if self._file.closed:
            return
        failed_before = self._file.failure is not None
        if failed_before and record.get("event") not in AFTER_FAILURE:
            self.dropped += 1
            return
        line = json.dumps(redact(record), ensure_ascii=False, default=str) + "\n"
        if self._file.append(line.encode("utf-8", "backslashreplace")):
            return
        self.dropped += 1
        if failed_before:
            return
        failure = self._file.failure
        assert failure is not None
        if self._on_failure is None or record is self.header:
            self._file.discard()
            raise failure
        self._on_failure(failure)

    @property
    def closed(self) -> bool:
        return self._file.closed

    def close(self) -> None:
        """Close, and put the file in place (see `LiveFile.finish`); `path` is where it is then."""
        if not self._file.closed:
            self.path = self._file.finish()

    def discard(self) -> None:
        """Remove what was written (an import that failed)."""
        self._file.discard()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

"""The live count of a load: sessions up, finished, failed by reason, connect p50/p95 so far."""

from __future__ import annotations

import sys
import time
from collections import Counter
from typing import Any, TextIO

from .summary import percentiles


class LoadProgress:
    """Fed by the workers' progress items; `line()` is the view, redrawn at most every `every` s."""

    def __init__(self, sessions: int, out: TextIO | None = None, every: float = 1.0) -> None:
        self.sessions = sessions
        self.started: set[int] = set()
        self.finished: list[dict[str, Any]] = []
        self.out = out
        self.every = every
        self._last = 0.0

    def __call__(self, item: tuple[str, Any]) -> None:
        kind, value = item
        if kind == "up":
            self.started.add(value)
        elif kind == "done":
            self.started.add(value["index"])
            self.finished.append(value)

    def line(self) -> str:
        failed = Counter(o["failure"] for o in self.finished if o["failure"])
        connect = percentiles([o["figures"]["connect"] for o in self.finished if o["figures"].get("connect") is not None])
        up = len(self.started) - len(self.finished)
        text = f"load: {len(self.finished)}/{self.sessions} done, {up} running, {len(self.finished) - sum(failed.values())} completed"
        if failed:
            text += ", failed: " + ", ".join(f"{reason} {n}" for reason, n in failed.most_common())
        if connect.n:
            text += f"; connect p50 {connect.p50:.0f} ms p95 {connect.p95:.0f} ms"
        return text

    def tick(self) -> None:
        if self.out is None or time.monotonic() - self._last < self.every:
            return
        self._last = time.monotonic()
        end = "\r" if self.out.isatty() else "\n"
        print(self.line().ljust(100) if end == "\r" else self.line(), end=end, file=self.out, flush=True)

    def close(self) -> None:
        if self.out is not None and self.out.isatty():
            print(file=self.out)


def stderr_progress(sessions: int, live: bool) -> LoadProgress:
    return LoadProgress(sessions, sys.stderr if live else None, every=1.0 if sys.stderr.isatty() else 5.0)

"""Shared by the benchmarks: the reference target in a child process, and small summaries.

The target runs in its own process so that the process-CPU time a benchmark measures is the
client's alone (aiortc encodes and decodes on executor threads, so per-thread timers would miss
work), and so that the target costs the same to a probe, a plain aiortc client and Chromium.

    python bench/_common.py serve     # what TargetProcess starts: prints the base URL, runs until stdin closes
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: A page on the target's own origin (a secure context: 127.0.0.1), so that Chromium's POST is
#: same-origin: no CORS preflight in the measured exchange.
PAGE_PATH = "/bench-page"
PAGE_HTML = "<!DOCTYPE html><html><head><title>rtcprobe bench</title></head><body></body></html>"


@dataclass
class TargetProcess:
    """`rtcprobe.server` (default knobs) in a child process on 127.0.0.1; `base_url` once started."""

    base_url: str = ""
    _process: subprocess.Popen[str] | None = field(default=None, repr=False)

    def start(self, timeout: float = 30.0) -> TargetProcess:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve"], cwd=REPO,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()  # the child's one line: {"base_url": ...}
        if not line:
            self.stop()
            raise RuntimeError("the reference target process exited before printing its URL")
        self.base_url = json.loads(line)["base_url"]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close its stdin (it exits on EOF); terminate it only if it does not."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(timeout)

    def __enter__(self) -> TargetProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _serve() -> None:
    """Child side: the reference target plus an empty page on its origin, until stdin closes."""
    from aiohttp import web

    from rtcprobe.probe.loopback import restrict_to_loopback
    from rtcprobe.server import ServerConfig, create_app

    restrict_to_loopback()  # as run_server does on a loopback host
    app = create_app(ServerConfig(host="127.0.0.1", port=0))
    app.router.add_get(PAGE_PATH, lambda request: web.Response(text=PAGE_HTML, content_type="text/html"))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    print(json.dumps({"base_url": f"http://127.0.0.1:{port}"}), flush=True)
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, sys.stdin.read)  # returns at EOF: the parent is done or gone
    finally:
        await runner.cleanup()


# -- summaries ----------------------------------------------------------------------------------

def median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def quartiles(values: Iterable[float | None]) -> tuple[float, float] | None:
    """25th and 75th percentiles (None for fewer than two values)."""
    present = sorted(v for v in values if v is not None)
    if len(present) < 2:
        return None
    q = statistics.quantiles(present, n=4, method="inclusive")
    return q[0], q[2]


def summarize(values: Sequence[float | None], digits: int = 1) -> dict[str, float | int | None]:
    """Median, quartiles, min, max and count of the values present."""
    present = [v for v in values if v is not None]
    iqr = quartiles(present)
    rnd = lambda v: None if v is None else round(v, digits)  # noqa: E731
    return {"median": rnd(median(present)), "p25": rnd(iqr[0]) if iqr else None,
            "p75": rnd(iqr[1]) if iqr else None, "min": rnd(min(present, default=None)),
            "max": rnd(max(present, default=None)), "n": len(present)}


def ratio(a: float | None, b: float | None, digits: int = 3) -> float | None:
    return None if a is None or not b else round(a / b, digits)


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    def cell(value: object) -> str:
        return "—" if value is None else str(value)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


if __name__ == "__main__":
    if sys.argv[1:] != ["serve"]:
        sys.exit(f"usage: {sys.argv[0]} serve")
    asyncio.run(_serve())

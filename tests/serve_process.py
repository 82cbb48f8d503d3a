"""`rtcprobe serve` in a subprocess of its own, for tests that need the real command (signals,
flags, a port that stays the same across restarts); in-process targets use conftest's `serve`."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RTCPROBE = [sys.executable, "-m", "rtcprobe.cli"]
STARTED = "Ctrl-C to stop"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_process(log: Path, *flags: str, port: int = 0, env: dict[str, str] | None = None) -> Iterator[str]:
    """`rtcprobe serve --port PORT FLAGS` (0: any free port), its output in `log`; yields its base
    URL once it listens, and stops it with SIGINT (as Ctrl-C) after."""
    with log.open("w") as out:
        proc = subprocess.Popen([*RTCPROBE, "serve", "--port", str(port), *flags], stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "NO_COLOR": "1", **(env or {})})
        try:
            deadline = time.monotonic() + 30
            while STARTED not in log.read_text():
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "rtcprobe serve did not start"
                time.sleep(0.1)
            found = re.search(r"reference target at (http://\S+)", log.read_text())
            assert found, log.read_text()
            yield found.group(1)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=15)

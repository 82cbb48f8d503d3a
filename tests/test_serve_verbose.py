"""`rtcprobe serve -v`: each request and each session's lifecycle on stderr, nothing of it without -v.
Real processes: the target in a subprocess, one `rtcprobe capture` session against it over loopback."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rtcprobe.capture import load

pytestmark = pytest.mark.slow
RTCPROBE = [sys.executable, "-m", "rtcprobe.cli"]


def _serve_and_capture(tmp_path: Path, *extra: str) -> tuple[str, str]:
    """One WHIP session against `serve` (its port from its own banner); returns (stdout, stderr)."""
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("w") as o, err.open("w") as e:
        proc = subprocess.Popen([*RTCPROBE, "serve", "--port", "0", *extra], stdout=o, stderr=e)
        try:
            deadline = time.monotonic() + 30
            while "Ctrl-C to stop" not in out.read_text():
                assert proc.poll() is None, err.read_text()
                assert time.monotonic() < deadline, "rtcprobe serve did not start"
                time.sleep(0.1)
            base = re.search(r"at (http://\S+)", out.read_text()).group(1)  # type: ignore[union-attr]
            capture = tmp_path / "c.jsonl"
            run = subprocess.run([*RTCPROBE, "capture", f"{base}/whip", "-o", str(capture), "--duration", "1",
                                  "--no-live"], capture_output=True, text=True, timeout=90)
            assert run.returncode == 0, run.stdout + run.stderr
            assert load(capture).ok
            time.sleep(0.5)  # the DELETE's close is logged after its answer
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=15)
    return out.read_text(), err.read_text()


def test_verbose_logs_requests_and_lifecycle(tmp_path: Path) -> None:
    stdout, stderr = _serve_and_capture(tmp_path, "-v")
    post = re.search(r"POST /whip -> 201 session=(\S+) (\d+\.\d) ms", stderr)
    assert post, stderr
    session = post.group(1)
    assert session != "-"
    assert re.search(rf"DELETE /whip/{re.escape(session)} -> 200 session={re.escape(session)} \d+\.\d ms", stderr), stderr
    lifecycle = [f"session {session}: answered an offer on", f"session {session}: connection connected",
                 f"session {session} closed: deleted by the client"]
    positions = [stderr.find(line) for line in lifecycle]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), stderr
    assert "POST /whip" not in stdout  # the banner stays on stdout, the log on stderr


def test_quiet_without_verbose(tmp_path: Path) -> None:
    _, stderr = _serve_and_capture(tmp_path)
    assert "POST /whip" not in stderr and "closed:" not in stderr, stderr

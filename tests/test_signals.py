"""Signals as a CI runner and a closed terminal send them: SIGTERM, SIGHUP and SIGINT end a real
`rtcprobe capture` the way Ctrl-C does (end `interrupted`, the WHIP resource deleted, exit 128 +
signal), in the HTTP phase and in steady state; a second signal exits at once with every complete
line of the capture intact. Real subprocesses against the reference target on loopback."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile import HANG_GUARD, RecordingTarget

from rtcprobe.capture import load

pytestmark = pytest.mark.slow
RTCPROBE = [sys.executable, "-m", "rtcprobe.cli"]
SIGNALS = [signal.SIGTERM, signal.SIGHUP, signal.SIGINT]


def start_capture(base: str, output: Path, ignore: signal.Signals | None = None) -> subprocess.Popen[str]:
    """`rtcprobe capture` of the target's WHIP endpoint; `ignore`: a signal ignored from the start,
    as `nohup` ignores SIGHUP."""

    def ignoring() -> None:
        if ignore is not None:
            signal.signal(ignore, signal.SIG_IGN)

    return subprocess.Popen([*RTCPROBE, "capture", f"{base}/whip", "-o", str(output), "--duration", "60",
                             "--no-live"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=ignoring)


def wait_for(proc: subprocess.Popen[str], ready: object) -> None:
    """Until `ready()` holds; the capture must still be running then (hang guard only)."""
    deadline = time.monotonic() + HANG_GUARD
    while not ready():  # type: ignore[operator]
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the capture never reached the phase"
        time.sleep(0.05)


def in_capture(output: Path, text: str) -> bool:
    return output.exists() and text in output.read_text()


def complete_lines(output: Path) -> list[dict]:
    """Every line of the file, each of which must be a whole JSON object ending in a newline."""
    data = output.read_bytes()
    assert data.endswith(b"\n"), data[-200:]
    return [json.loads(line) for line in data.decode().splitlines()]


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: s.name)
def test_signal_in_steady_state_tears_down(signum: signal.Signals, tmp_path: Path) -> None:
    output = tmp_path / "c.jsonl"
    with RecordingTarget() as target:
        proc = start_capture(target.base, output)
        wait_for(proc, lambda: in_capture(output, '"event": "stats"'))
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=HANG_GUARD)
        assert target.saw("DELETE", "/whip/"), target.requests  # the target saw the teardown
    assert proc.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    capture = load(output)
    assert capture.reason == "interrupted" and not capture.cut
    assert signum.name in capture.diagnosis or signum == signal.SIGINT
    assert [h["status"] for h in capture.http if h["method"] == "DELETE"] == [200]


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: s.name)
def test_signal_in_http_phase(signum: signal.Signals, tmp_path: Path) -> None:
    """The target holds the offer: the capture ends `interrupted` with the POST recorded as
    cancelled; there is no resource yet, so nothing to delete."""
    output = tmp_path / "c.jsonl"
    with RecordingTarget(http_delay_ms=60_000) as target:
        proc = start_capture(target.base, output)
        wait_for(proc, lambda: target.saw("POST", "/whip"))
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == 128 + signum, stderr
    assert "Traceback" not in stderr
    capture = load(output)
    assert capture.reason == "interrupted" and not capture.cut
    [post] = capture.http
    assert post["method"] == "POST" and post.get("status") is None and post.get("error")


def test_second_signal_exits_at_once_keeping_every_line(tmp_path: Path) -> None:
    """The target never answers the DELETE: the first SIGTERM waits in the teardown, the second
    one exits at once, and the capture holds every complete line written, no partial one."""
    output = tmp_path / "c.jsonl"
    with RecordingTarget(hang_on=("DELETE",)) as target:
        proc = start_capture(target.base, output)
        wait_for(proc, lambda: in_capture(output, '"event": "stats"'))
        proc.send_signal(signal.SIGTERM)
        wait_for(proc, lambda: target.saw("DELETE", "/whip/"))
        lines_before = len(complete_lines(output))
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "exiting at once" in stderr and "Traceback" not in stderr
    events = complete_lines(output)
    assert len(events) >= lines_before and events[0]["event"] == "header"
    assert any(e["event"] == "error" and "SIGTERM" in e["message"] for e in events)
    assert events[-1]["event"] != "end"  # no teardown result was waited for
    capture = load(output)
    assert capture.cut and capture.answer is not None and capture.stats_samples


def test_a_signal_ignored_from_the_start_stays_ignored(tmp_path: Path) -> None:
    """Under `nohup` SIGHUP is ignored: it must not count as the first signal. Had it counted, the
    SIGTERM after it would be a second signal and exit at once without an end."""
    output = tmp_path / "c.jsonl"
    with RecordingTarget() as target:
        proc = start_capture(target.base, output, ignore=signal.SIGHUP)
        wait_for(proc, lambda: in_capture(output, '"event": "stats"'))
        proc.send_signal(signal.SIGHUP)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == 128 + signal.SIGTERM and "at once" not in stderr, stderr
    capture = load(output)
    assert capture.reason == "interrupted" and "SIGTERM" in capture.diagnosis


def test_serve_with_sigint_ignored_closes_its_sessions_on_sigterm(tmp_path: Path) -> None:
    """A target started in the background (SIGINT ignored, as `cmd &` does) with a session whose
    client vanished: SIGTERM closes every session and the process exits, not hangs."""
    def ignoring_sigint() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    serve = subprocess.Popen([*RTCPROBE, "serve", "--port", "0", "-v"], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, preexec_fn=ignoring_sigint)
    try:
        first = serve.stdout.readline() if serve.stdout else ""
        base = first.rsplit(" ", 1)[1].strip()
        output = tmp_path / "c.jsonl"
        capture = start_capture(base, output)
        wait_for(capture, lambda: in_capture(output, '"event": "stats"'))
        capture.kill()  # gone without a DELETE: the session stays open at the target
        capture.communicate()
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=HANG_GUARD)
        assert serve.returncode == 128 + signal.SIGTERM and "closed: server shutdown" in out, out[-2000:]
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.communicate()

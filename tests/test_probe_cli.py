"""`rtcprobe capture` and `rtcprobe serve` as a user runs them: exit status, Ctrl-C, and no secret
anywhere in what is written (capture, stdout, stderr, logs)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_process import RTCPROBE, serve_process

from rtcprobe.capture import load

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[tuple[str, Path]]:
    """`rtcprobe serve` in a subprocess with the test's extra flags; yields (base URL, its log)."""
    log = tmp_path / "serve.log"
    with serve_process(log, "--token-env", "SERVE_TOKEN", *getattr(request, "param", []),
                       env={"SERVE_TOKEN": "sk-serve-secret-0123456789"}) as base:
        yield base, log


def test_secret_never_written(server: tuple[str, Path], tmp_path: Path) -> None:
    base, log = server
    secret = "sk-serve-secret-0123456789"
    output = tmp_path / "c.jsonl"
    in_url = "pw-in-the-url-0123", "key-in-the-query-0123"  # userinfo and a query key, as users paste them
    target = base.replace("://", f"://probe:{in_url[0]}@") + f"/v1/realtime/calls?api_key={in_url[1]}"
    proc = subprocess.run(
        [*RTCPROBE, "capture", target, "-o", str(output), "--token", secret, "--duration", "1",
         "--no-live", "--send", '{"type": "response.create"}'],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    written = output.read_bytes() + proc.stdout.encode() + proc.stderr.encode() + log.read_bytes()
    assert all(s.encode() not in written for s in (secret, *in_url))
    assert b"[redacted]" in output.read_bytes()
    assert load(output).ok


def test_wrong_token_exits_nonzero(server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = server
    output = tmp_path / "c.jsonl"
    proc = subprocess.run([*RTCPROBE, "capture", f"{base}/whip", "-o", str(output), "--token", "nope-nope",
                           "--no-live"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "401" in proc.stdout and load(output).reason == "http"


def test_sigint_ends_capture_cleanly(server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = server
    output = tmp_path / "c.jsonl"
    proc = subprocess.Popen([*RTCPROBE, "capture", f"{base}/whip", "-o", str(output), "--token",
                             "sk-serve-secret-0123456789", "--duration", "60", "--no-live"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while '"event": "stats"' not in (output.read_text() if output.exists() else ""):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    capture = load(output)
    assert capture.reason == "interrupted" and not capture.cut
    assert any(h["method"] == "DELETE" for h in capture.http)  # the WHIP resource was torn down
    assert "Traceback" not in stderr


def test_killed_capture_loads_as_cut(server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = server
    output = tmp_path / "c.jsonl"
    proc = subprocess.Popen([*RTCPROBE, "capture", f"{base}/whip", "-o", str(output), "--token",
                             "sk-serve-secret-0123456789", "--duration", "60", "--no-live"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while '"event": "stats"' not in (output.read_text() if output.exists() else ""):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    proc.kill()
    proc.wait(timeout=10)
    capture = load(output)
    assert capture.cut and capture.reason == "cut" and capture.answer is not None and capture.stats_samples


@pytest.mark.parametrize("server", [["--http-status", "500"]], indirect=True)
def test_http_fault_via_cli(server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = server
    output = tmp_path / "c.jsonl"
    proc = subprocess.run([*RTCPROBE, "capture", f"{base}/offer", "-o", str(output), "--token",
                           "sk-serve-secret-0123456789", "--no-live", "--json"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    import json

    summary = json.loads(proc.stdout)
    assert summary["reason"] == "http" and "500" in summary["diagnosis"]


def test_bad_capture_flags_are_usage_errors(tmp_path: Path) -> None:
    out = subprocess.run([*RTCPROBE, "capture", "http://127.0.0.1:9/whip", "--timeout", "ice=abc"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "--timeout" in out.stderr and "Traceback" not in out.stderr
    out = subprocess.run([*RTCPROBE, "capture", "http://127.0.0.1:9/whip", "--send", "{not json"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "--send" in out.stderr
    for flags, words in ((["http://127.0.0.1:99999/whip"], "Port out of range"),
                         (["ftp://127.0.0.1/whip"], "expected an http:// or https:// URL"),
                         (["http://127.0.0.1:9/whip", "--audio", "bogus"], "expected tone"),
                         (["http://127.0.0.1:9/whip", "--audio", "wav:/nonexistent.wav"], "no such file"),
                         (["http://127.0.0.1:9/whip", "--video", "--video-size", "321x241"], "must be even")):
        out = subprocess.run([*RTCPROBE, "capture", *flags, "-o", str(tmp_path / "x.jsonl")],
                             capture_output=True, text=True)
        assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr, out.stderr
        assert not (tmp_path / "x.jsonl").exists()
    out = subprocess.run([*RTCPROBE, "serve", "--advertise-ip", "not-an-ip"], capture_output=True, text=True)
    assert out.returncode == 2 and "advertise IP" in out.stderr and "Traceback" not in out.stderr

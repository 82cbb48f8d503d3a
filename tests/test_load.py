"""`rtcprobe load` against `rtcprobe serve` on 127.0.0.1: real sessions over local worker processes,
the summary, 503s beyond serve's --max-sessions counted as their own reason, and bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from test_probe_cli import RTCPROBE, server  # noqa: F401 - the serve fixture

from rtcprobe.capture import load as load_capture

pytestmark = pytest.mark.slow
LOAD = [*RTCPROBE, "load"]
QUICK = ["--token", "sk-serve-secret-0123456789", "--audio-only", "--lite", "--duration", "1", "--json"]


def run_load(base: str, out: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = subprocess.run([*LOAD, f"{base}/whip", "-o", str(out), *QUICK, *extra],
                          capture_output=True, text=True, timeout=240)
    document = json.loads((out / "load.json").read_text()) if (out / "load.json").exists() else {}
    return proc, document


def test_thirty_sessions_complete_with_the_summary(server: tuple[str, Path], tmp_path: Path) -> None:  # noqa: F811
    base, _ = server
    out = tmp_path / "load"
    proc, document = run_load(base, out, "--sessions", "30", "--rate", "15/s")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["completed"] == 30
    assert document["completed"] == 30 and document["failed"] == {} and document["lite"] is True
    for name in ("http", "ice", "dtls", "first_media", "connect"):
        assert document["metrics"][name]["n"] == 30, name
        assert 0 < document["metrics"][name]["p50"] <= document["metrics"][name]["p95"]
    assert document["metrics"]["loss_pct"]["n"] == 30
    captures = sorted(out.glob("session-*.jsonl"))
    assert [c.name for c in captures] == [f"session-{i:05d}.jsonl" for i in range(30)]
    loaded = [load_capture(c) for c in captures]
    assert all(c.ok and c.header["options"]["lite"] is True and not c.of("rtcp") for c in loaded)  # not listed...
    counts = [c.of("rtcp_counts")[0]["counts"] for c in loaded]
    # ... but counted; in 1 s of media a session may see no report yet (aiortc's first comes after 0.5-1.5 s)
    assert all(set(n) == {"sent", "received"} for n in counts) and any(n["received"] for n in counts)
    assert "completed" in (out / "load.html").read_text()


@pytest.mark.parametrize("server", [["--max-sessions", "3"]], indirect=True)
def test_beyond_max_sessions_503_is_its_own_reason(server: tuple[str, Path], tmp_path: Path) -> None:  # noqa: F811
    base, _ = server
    proc, document = run_load(base, tmp_path / "busy", "--sessions", "6", "--duration", "3", "--max-retry-after", "0")
    assert proc.returncode == 1, proc.stderr
    busy = document["failed"].get("target busy (503, Retry-After 5)", 0)
    assert busy >= 1 and document["completed"] + busy == 6 and document["retried_after_503"] == 0
    assert document["completed"] <= 3  # serve held its ceiling


@pytest.mark.parametrize("server", [["--max-sessions", "2"]], indirect=True)
def test_retry_after_is_honoured_once(server: tuple[str, Path], tmp_path: Path) -> None:  # noqa: F811
    base, _ = server
    out = tmp_path / "retry"
    proc, document = run_load(base, out, "--sessions", "3", "--duration", "1")
    assert document["retried_after_503"] >= 1, proc.stderr
    retried = [o for o in document["outcomes"] if o["retried"]]
    for outcome in retried:  # both attempts are kept; the figures are the retry's
        assert (out / outcome["capture"]).exists() and outcome["capture"].endswith("-retry.jsonl")
        assert (out / outcome["capture"].replace("-retry", "")).exists()
    assert document["completed"] + sum(document["failed"].values()) == 3


@pytest.mark.parametrize("argv, says", [
    (["--sessions", "0"], "--sessions: expected a whole number >= 1"),
    (["--sessions", "3", "--ray", "127.0.0.1:1"], "--ray 127.0.0.1:1: no Ray cluster answers there"),
    (["--sessions", "3", "--rate", "0/s"], "--rate"),
])
def test_bad_input_is_one_line_exit_2(argv: list[str], says: str, tmp_path: Path) -> None:
    out = tmp_path / "never"
    proc = subprocess.run([*LOAD, "http://127.0.0.1:9/whip", "-o", str(out), *argv],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and says in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()

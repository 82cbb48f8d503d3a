"""Views as a user without colour sees them (NO_COLOR, a pipe, a CI log): the meaning is in the text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SDP = Path(__file__).parent / "data" / "realworld" / "sdp"
RTCPROBE = [sys.executable, "-m", "rtcprobe.cli"]


def diff(a: str, b: str) -> str:
    """`rtcprobe diff` on a pipe (not a terminal) with NO_COLOR: what a log keeps."""
    proc = subprocess.run([*RTCPROBE, "diff", str(SDP / a), str(SDP / b)], capture_output=True, text=True,
                          timeout=60, env={"NO_COLOR": "1", "COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" not in proc.stdout  # no colour at all: the markers carry it
    return proc.stdout


def marked(out: str, marker: str, text: str) -> bool:
    """A table row whose marker column holds `marker` and whose text holds `text`."""
    return any(line.split("│")[1].strip() == marker and text in line for line in out.splitlines() if line.count("│") > 2)


def test_diff_marks_added_removed_changed_without_colour() -> None:
    out = diff("aiortc-audio_chrome-1.sdp", "aiortc-audio_firefox-1.sdp")  # Chrome's offer vs Firefox's
    assert marked(out, "-", "codecs removed: isac/16000")
    assert marked(out, "+", "header extension added: mid")
    assert marked(out, "~", "fmtp stereo 0 → 1")
    assert marked(out, "-", "fmtp minptime 10 → none")
    assert marked(out, "-", "rtcp-fb transport-cc → none")  # an empty list is nothing, not a change
    assert marked(out, "~", "end-of-candidates")
    assert any(line.startswith("v ") and "ice-pwd changed" in line for line in out.splitlines())
    assert "no semantic change" not in out


def test_diff_says_no_semantic_change() -> None:
    out = diff("aiortc-audio_chrome-1.sdp", "aiortc-audio_chrome-1.sdp")
    assert "no semantic change" in out.splitlines()
    assert not any(marked(out, m, "") for m in "+-~")

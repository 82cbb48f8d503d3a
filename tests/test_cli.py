"""The analyze and diff commands: output, JSON shape and exit status, run as a user would."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

CAPTURES = Path(__file__).resolve().parents[1] / "captures"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rtcprobe.cli", *args], capture_output=True, text=True)


def test_analyze_json_shape() -> None:
    out = run("analyze", str(CAPTURES / "openai-ga-2025-09.json"), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) >= {"source", "described", "profile", "dropped", "candidates", "warnings", "unknown_attributes"}
    assert doc["profile"][0] == {"aspect": "PeerConnection", "summary": "a single PeerConnection using BUNDLE",
                                 "facts": doc["profile"][0]["facts"]}
    assert doc["candidates"]["count"] == 6
    row = doc["candidates"]["rows"][1]
    assert (row["transport"], row["tcptype"], row["type_preference"], row["local_preference"]) == ("tcp", "passive", 99, 40959)


def test_diff_exit_code() -> None:
    a, b = str(CAPTURES / "openai-api-demo-offer.sdp"), str(CAPTURES / "chatgpt-web-offer.sdp")
    assert run("diff", a, b).returncode == 0
    assert run("diff", a, b, "--exit-code").returncode == 1
    assert run("diff", a, a, "--exit-code").returncode == 0
    doc = json.loads(run("diff", a, b, "--json").stdout)
    assert doc["semantic_change"] is True
    assert [c["summary"] for c in doc["changes"]] == ["video (mid 1): direction sendrecv → sendonly"]
    assert all({"field", "a", "b", "changed", "volatile"} <= set(r) for r in doc["candidate_table"])


def test_diff_text_says_no_semantic_change() -> None:
    ga = str(CAPTURES / "openai-ga-2025-09.json")
    out = run("diff", ga, ga)
    assert out.returncode == 0 and "no semantic change" in out.stdout


@pytest.mark.parametrize(
    ("content", "expected"),
    [("not sdp at all\n", ":1: expected 'v=0'"), ("v=0\nm=audio x RTP/AVP 0\n", ":2: m-line port must be a number")],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.sdp"
    path.write_text(content)
    out = run("analyze", str(path))
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert str(path) in out.stderr and expected in out.stderr


def test_missing_file_and_usage_errors(tmp_path: Path) -> None:
    out = run("diff", str(tmp_path / "nope.sdp"), str(CAPTURES / "chatgpt-web-offer.sdp"))
    assert out.returncode == 2 and "nope.sdp: no such file" in out.stderr and "Traceback" not in out.stderr
    assert run("analyze").returncode == 2
    assert run("frobnicate").returncode == 2


def test_unknown_line_type_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "odd.sdp"
    path.write_text("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\ny=odd\nm=audio 9 RTP/AVP 0\na=x-vendor:1\n")
    out = run("analyze", str(path))
    assert out.returncode == 0
    assert "warning:" in out.stderr and ":5: unknown line type 'y='" in out.stderr
    assert "a=x-vendor:1" in out.stdout  # unknown attributes are shown


def test_terminal_candidate_table_is_capped_and_counts_the_rest(tmp_path: Path) -> None:
    from rtcprobe.report.terminal import TERMINAL_CANDIDATE_ROWS

    lines = (Path(__file__).parent / "data" / "chromium-offer.sdp").read_text(encoding="utf-8").splitlines()
    extra = TERMINAL_CANDIDATE_ROWS + 50
    lines += [f"a=candidate:{i} 1 udp 2122260223 10.0.{i // 250}.{i % 250} {20000 + i} typ host" for i in range(extra)]
    path = tmp_path / "many.sdp"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "rtcprobe.cli", "analyze", str(path)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    import re

    total = int(re.search(r"(\d+) candidates, ", out.stdout).group(1))  # type: ignore[union-attr]
    assert total >= extra
    assert f"and {total - TERMINAL_CANDIDATE_ROWS} more candidates (--json lists every one)" in out.stdout

"""`rtcprobe watch`: a history of real captures against `rtcprobe serve` on 127.0.0.1; `--once`
exits 0 while the target is unchanged and 1 once its codecs change; `report DIR` lists that change
with its date; the ICE ufrag's shape is watched although its value is volatile."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from serve_process import free_port
from test_matrix import run, serving

from rtcprobe.analyze.diff import diff_descriptions, ufrag_shape
from rtcprobe.sdp import parse_description
from rtcprobe.watch.runner import parse_every

DESIGN_ANSWER = """v=0\r
o=- 1 2 IN IP4 127.0.0.1\r
s=-\r
t=0 0\r
a=group:BUNDLE 0\r
m=audio 3478 UDP/TLS/RTP/SAVPF 111\r
c=IN IP4 0.0.0.0\r
a=ice-ufrag:{ufrag}\r
a=ice-pwd:cdefghijklmnopqrstuvwxyz\r
a=fingerprint:sha-256 {fingerprint}\r
a=setup:passive\r
a=mid:0\r
a=sendrecv\r
a=rtcp-mux\r
a=rtpmap:111 opus/48000/2\r
"""
FINGERPRINT = ":".join(["AB"] * 32)


def answer(ufrag: str):  # noqa: ANN201 - a SessionDescription
    return parse_description(DESIGN_ANSWER.format(ufrag=ufrag, fingerprint=FINGERPRINT))


# -- the ufrag's shape (the study's two ufrags, DESIGN.md) -------------------------------------
def test_ufrag_shape_of_the_studys_ufrags() -> None:
    assert ufrag_shape("aCcjmpdGpYicMaAE") == "16 chars, alphanumeric"
    assert ufrag_shape("DoTGved3/u0") == "11 chars, alphanumeric and '/', 2 segments of 8+2"
    assert ufrag_shape(None) is None


def test_a_changed_ufrag_shape_is_a_change_and_its_value_stays_volatile() -> None:
    result = diff_descriptions(answer("aCcjmpdGpYicMaAE"), answer("DoTGved3/u0"))
    assert [(c.area, c.a, c.b) for c in result.changes] == [
        ("ice", "16 chars, alphanumeric", "11 chars, alphanumeric and '/', 2 segments of 8+2")]
    assert any("ice-ufrag aCcjmpdGpYicMaAE → DoTGved3/u0" in c.summary for c in result.volatile)
    same_shape = diff_descriptions(answer("aCcjmpdGpYicMaAE"), answer("Zz09qqqqqqqqqqqq"))
    assert same_shape.changes == [] and not same_shape.semantic_change


# -- bad input -----------------------------------------------------------------------------------
def test_history_directory_holding_something_else_is_one_line_exit_2(tmp_path: Path) -> None:
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"\xff\xd8")
    out = run("watch", "http://127.0.0.1:9/whip", "--history", str(other), "--once")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"rtcprobe: error: {other}: holds something else (no rtcprobe-history.json): --history needs a new or "
        "empty directory, or one rtcprobe watch made"]
    assert sorted(p.name for p in other.iterdir()) == ["cat.jpg"]  # nothing written into it
    out = run("report", str(other / "cat.jpg"))
    assert out.returncode == 2 and "Traceback" not in out.stderr


@pytest.mark.parametrize("text", ["1x", "0s", "h", "1h 2m", "-5m"])
def test_bad_period_is_a_usage_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(ValueError, match="--every: expected a period"):
        parse_every(text)
    out = run("watch", "http://127.0.0.1:9/whip", "--history", str(tmp_path / "h"), "--every", text)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and not (tmp_path / "h").exists()


def test_periods() -> None:
    assert [parse_every(t) for t in ("90s", "30m", "1h", "1h30m", "1d", "0.5h")] == [90, 1800, 3600, 5400, 86400, 1800]


# -- against serve ---------------------------------------------------------------------------------
@pytest.mark.slow
def test_watch_once_exits_1_after_the_codecs_change_and_the_report_lists_it(tmp_path: Path) -> None:
    port, history = free_port(), tmp_path / "history"
    got = tmp_path / "on-change.txt"
    # --on-change runs without a shell: its words are argv, the summary comes on stdin and in env
    hook = (f"{sys.executable} -c \"import os,sys; open({str(got)!r}, 'w').write(sys.stdin.read() + "
            "'RUN=' + os.environ['RTCPROBE_RUN'] + ' $HOME;`id`')\"")
    watch = ["watch", "--history", str(history), "--once", "--on-change", hook, "--duration", "1"]
    with serving(port, "--audio-codecs", "opus,PCMU", log=tmp_path / "a.log") as url:
        first, second = run(*watch[:1], url, *watch[1:]), run(*watch[:1], url, *watch[1:])
    assert (first.returncode, second.returncode) == (0, 0), first.stdout + first.stderr + second.stdout + second.stderr
    assert "first run: nothing to compare" in first.stdout and "0 change(s)" in second.stdout
    assert not got.exists()  # no change, no call
    with serving(port, "--audio-codecs", "PCMU", log=tmp_path / "b.log") as url:
        third = run(*watch[:1], url, *watch[1:])
    assert third.returncode == 1, third.stdout + third.stderr
    alert = [line for line in third.stderr.splitlines() if line.startswith("rtcprobe: watch: CHANGE ")]
    assert len(alert) == 1 and alert[0].endswith("audio (mid 0): codecs removed: opus/48000/2")
    records = [json.loads(line) for line in (history / "changes.jsonl").read_text().splitlines()]
    assert [r["changes"] for r in records] == [[], [], ["audio (mid 0): codecs removed: opus/48000/2"]]
    assert records[2]["against"] == f"previous {records[1]['run']}"
    assert got.read_text() == f"audio (mid 0): codecs removed: opus/48000/2\nRUN={records[2]['run']} $HOME;`id`"
    report = run("report", str(history), "-o", str(tmp_path / "history.html"))
    assert report.returncode == 0 and "3 run(s), 1 change(s)" in report.stdout
    page = (tmp_path / "history.html").read_text()
    changes = page[page.index('<section id="changes">'):page.index('<section id="trends">')]
    assert f"<td>{records[2]['at']}</td>" in changes and "codecs removed: opus/48000/2" in changes
    assert changes.count("<tr>") == 1 + 1  # header and the one change
    assert page.count('<img class="plot"') >= 2  # connect time and RTT over the three runs
    assert "audio opus, audio PCMU" in page and "<script" not in page
    # a baseline: compared with it instead of the previous run
    baseline = history / records[0]["capture"]
    with serving(port, "--audio-codecs", "PCMU", log=tmp_path / "c.log") as url:
        fourth = run("watch", url, "--history", str(history), "--once", "--baseline", str(baseline), "--duration", "1")
    assert fourth.returncode == 1 and f"against baseline {baseline}" in fourth.stdout


def test_a_history_is_one_targets(tmp_path: Path) -> None:
    from rtcprobe.errors import InputError
    from rtcprobe.watch.history import open_history

    history = open_history(tmp_path / "h", "http://127.0.0.1:1/whip")
    assert history.records() == [] and (tmp_path / "h" / "runs").is_dir()
    assert open_history(tmp_path / "h").target == "http://127.0.0.1:1/whip"  # report DIR reads it back
    with pytest.raises(InputError, match="is the history of http://127.0.0.1:1/whip, not of http://127.0.0.1:2/whip"):
        open_history(tmp_path / "h", "http://127.0.0.1:2/whip")
    (tmp_path / "h" / "changes.jsonl").write_text('{"run": "x"}\n')
    with pytest.raises(InputError, match="changes.jsonl:1: not a run record"):
        history.records()

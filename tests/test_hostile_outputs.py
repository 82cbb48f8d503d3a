"""Outputs that fail: a read-only directory, an output that is a directory (or, for `import`, a
file), `/dev/full`, a full disk (a 64 KiB tmpfs), a closed pipe. One line naming the path and the
cause, exit 2 before any work; mid-session, a capture that keeps every complete line; and never a
good earlier capture or report replaced by a failed run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hostile import HANG_GUARD, RecordingTarget, run_cli

from rtcprobe.capture import load

DATA = Path(__file__).parent / "data" / "realworld"
DUMP = DATA / "dumps" / "chromium-renegotiation-trickle.json.gz"  # imports to ~190 KB, reports to ~400 KB
SDP = DATA / "sdp" / "pion-test-janus-offer-videoroom.sdp"
UNREACHABLE = "http://127.0.0.1:9/whip"  # never contacted: the output check comes first


@contextmanager
def tmpfs(where: Path, *options: str) -> Iterator[Path]:
    """A small tmpfs at `where` (root only); the test is skipped, saying why, where mounting fails."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", ",".join(options), "tmpfs", str(where)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or 'mount failed'}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def no_leftovers(directory: Path) -> None:
    assert not [p.name for p in directory.iterdir() if p.name.endswith(".part")]


def command(name: str, output: Path) -> list[str]:
    return {"capture": ["capture", UNREACHABLE, "-o", str(output), "--no-live"],
            "report": ["report", str(DUMP), "-o", str(output)],
            "import": ["import", str(DUMP), "-o", str(output)]}[name]


@pytest.mark.parametrize("name, suffix", [("capture", "c.jsonl"), ("report", "r.html"), ("import", "caps")])
def test_read_only_directory(name: str, suffix: str, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro", "size=64k") as ro:
        run = run_cli(*command(name, ro / suffix))
    assert run.status == 2
    line = one_line(run.stderr)
    assert str(ro / suffix) in line and "read-only file system" in line


@pytest.mark.parametrize("name, output, cause", [
    ("capture", "dir", "is a directory"), ("report", "dir.html", "is a directory"),
    ("import", "file", "is a file, expected a directory"),
    ("capture", "file/c.jsonl", "is a file, not a directory"), ("report", "file/r.html", "is a file, not a directory"),
    ("import", "file/caps", "is a file"),
])
def test_output_of_the_wrong_kind(name: str, output: str, cause: str, tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir.html").mkdir()
    (tmp_path / "file").write_text("an earlier file\n")
    run = run_cli(*command(name, tmp_path / output))
    assert run.status == 2
    line = one_line(run.stderr)
    assert str(tmp_path / output.split("/")[0]) in line and cause in line, line
    assert (tmp_path / "file").read_text() == "an earlier file\n"
    no_leftovers(tmp_path)


@pytest.mark.parametrize("name", ["capture", "report"])
def test_dev_full_is_refused_before_any_work(name: str) -> None:
    """A device is not replaced by a rename: refused as not a regular file (capture, report)."""
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    output = Path("/dev/full")
    args = command(name, output)
    if name == "report":  # a report must be named .html: the check of the kind comes after
        args = ["report", str(DUMP), "-o", "/dev/full"]
    run = run_cli(*args)
    assert run.status == 2
    line = one_line(run.stderr)
    assert "/dev/full" in line and ("not a regular file" in line or "NAME.html" in line)


def test_full_disk_report_keeps_the_earlier_report(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "full", "size=64k") as full:
        earlier = full / "r.html"
        earlier.write_text("<!doctype html><p>the good report of yesterday</p>")
        run = run_cli("report", str(DUMP), "-o", str(earlier))
        assert run.status == 2
        line = one_line(run.stderr)
        assert str(earlier) in line and "the disk is full" in line
        assert earlier.read_text() == "<!doctype html><p>the good report of yesterday</p>"
        no_leftovers(full)


def test_full_disk_import_leaves_no_half_capture(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "full", "size=64k") as full:
        earlier = full / "chromium-renegotiation-trickle-9-1.jsonl"
        earlier.write_text('{"event": "header", "t": 0.0, "schema": "rtcprobe-capture/1"}\n')
        run = run_cli("import", str(DUMP), "-o", str(full))
        assert run.status == 2
        line = one_line(run.stderr)
        assert str(full) in line and "the disk is full" in line
        assert earlier.read_text().startswith('{"event": "header"')  # not truncated by the failed run
        no_leftovers(full)
        for path in full.iterdir():  # whatever is left loads whole
            assert path.read_bytes().endswith(b"\n")


def test_full_disk_mid_capture_keeps_every_complete_line(tmp_path: Path) -> None:
    """The 64 KiB fill during the session: it ends (reason error, teardown sent), the terminal says
    the disk filled, and the file holds whole lines only."""
    with RecordingTarget() as target, tmpfs(tmp_path / "full", "size=64k") as full:
        output = full / "c.jsonl"
        run = run_cli("capture", f"{target.base}/whip", "-o", str(output), "--no-live", "--video",
                      "--duration", "600", "--stats-interval", "0.2")
        assert target.saw("DELETE", "/whip/")  # the session was torn down at the target
        data = output.read_bytes()
    assert run.status == 1, run.stderr
    assert "Traceback" not in run.stderr
    assert "the disk is full" in run.stdout and "complete lines" in run.stdout
    assert data.endswith(b"\n")
    events = [json.loads(line) for line in data.decode().splitlines()]
    assert events[0]["event"] == "header" and any(e["event"] == "stats" for e in events)
    if events[-1]["event"] == "end":  # written only when it fitted
        assert events[-1]["reason"] == "error" and "disk is full" in events[-1]["diagnosis"]


def test_full_disk_mid_capture_keeps_the_earlier_capture(tmp_path: Path) -> None:
    """An earlier capture of the same name is not replaced by one the disk cut short: this run's
    capture stays beside it under its temporary name, which the warning gives."""
    earlier = '{"event": "header", "t": 0.0, "schema": "rtcprobe-capture/1", "target": "x"}\n'
    with RecordingTarget() as target, tmpfs(tmp_path / "full", "size=64k") as full:
        output = full / "c.jsonl"
        output.write_text(earlier)
        run = run_cli("capture", f"{target.base}/whip", "-o", str(output), "--no-live", "--video",
                      "--duration", "600", "--stats-interval", "0.2", "--json")
        kept = [p for p in full.iterdir() if p.name.endswith(".part")]
        assert output.read_text() == earlier
        assert len(kept) == 1 and kept[0].read_bytes().endswith(b"\n")
        summary = json.loads(run.stdout)
    assert run.status == 1 and summary["reason"] == "error"
    assert summary["capture"] == str(kept[0]) and any(str(kept[0]) in w for w in summary["warnings"])


def test_capture_replaces_an_earlier_capture_only_at_its_end(tmp_path: Path) -> None:
    """Written live beside the earlier file (never truncating it), renamed over it at the end."""
    output = tmp_path / "c.jsonl"
    output.write_text("earlier\n")
    with RecordingTarget() as target:
        run = run_cli("capture", f"{target.base}/whip", "-o", str(output), "--no-live", "--duration", "1")
    assert run.status == 0, run.stderr
    assert load(output).ok
    no_leftovers(tmp_path)


def closed_pipe_run(*args: str, cwd: Path) -> tuple[int, str]:
    """`rtcprobe ARGS | head -0`: stdout is a pipe whose reader is gone before anything is written."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run([sys.executable, "-m", "rtcprobe.cli", *args], stdout=write,
                              stderr=subprocess.PIPE, text=True, cwd=cwd, timeout=HANG_GUARD)
    finally:
        os.close(write)
    return proc.returncode, proc.stderr


def test_closed_pipe_is_a_quiet_exit(tmp_path: Path) -> None:
    status, stderr = closed_pipe_run("analyze", str(SDP), cwd=tmp_path)
    assert status == 141 and stderr == ""


def test_closed_pipe_demo_still_writes_its_report(tmp_path: Path) -> None:
    status, stderr = closed_pipe_run("demo", "--duration", "1", "--no-live", cwd=tmp_path)
    assert status == 141 and "Traceback" not in stderr, stderr
    assert (tmp_path / "reports" / "demo.html").stat().st_size > 10_000
    [capture] = (tmp_path / "captures").glob("demo-*.jsonl")
    assert load(capture).ok


def test_live_file_keeps_whole_lines_when_the_disk_fills(tmp_path: Path) -> None:
    """Lines of 1000 bytes into 64 KiB: the one that does not fit is cut off again, and the file is
    exactly the lines that were accepted (a short last line, as an `end` event, may still fit)."""
    from rtcprobe.outputs import LiveFile

    line = b"x" * 999 + b"\n"
    with tmpfs(tmp_path / "full", "size=64k") as full:
        live = LiveFile(full / "c.jsonl")
        accepted = 0
        while live.append(line):
            accepted += 1
        assert live.failure is not None and live.failure.disk_full
        short = b'{"event": "end"}\n' if live.append(b'{"event": "end"}\n') else b""
        assert live.finish() == full / "c.jsonl"
        assert 0 < accepted < 66 and (full / "c.jsonl").read_bytes() == line * accepted + short


def test_interrupted_report_keeps_the_earlier_one(tmp_path: Path) -> None:
    """Ctrl-C (any exception) while the report is rendered: the temporary file goes, the earlier
    report stays."""
    from rtcprobe.report.html import write_report

    earlier = tmp_path / "r.html"
    earlier.write_text("good")

    def stop(done: int, name: str) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_report([DUMP], earlier, on_progress=stop)
    assert earlier.read_text() == "good"
    no_leftovers(tmp_path)


def test_demo_checks_both_outputs_before_its_session(tmp_path: Path) -> None:
    (tmp_path / "captures").write_text("not a directory\n")
    run = run_cli("demo", "--duration", "1", "--no-live", cwd=tmp_path)
    assert run.status == 2
    line = one_line(run.stderr)
    assert "captures" in line and "is a file, expected a directory" in line
    assert not (tmp_path / "reports").exists()  # nothing was run, nothing written

"""Hostile input files (issue 10, "files that are not what they claim"): not regular files, JSON
Python's json cannot take, decompression bombs, glob characters, unreadable files and file names
with control characters. Every case runs the CLI in a subprocess under a memory limit and a hang
guard (tests/hostile.py) and expects exit status 2 with one line naming the file, no traceback.
Seeds are real-world files from tests/data/realworld/."""

from __future__ import annotations

import errno
import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from rtcprobe import limits
from rtcprobe.errors import InputError, load_json, os_error_message
from tests.hostile import HANG_GUARD, MEMORY_LIMIT, Run, one_error, run_cli

REALWORLD = Path(__file__).parent / "data" / "realworld"
OFFER = REALWORLD / "sdp" / "aiortc-audio_chrome-1.sdp"
INTERNALS = REALWORLD / "dumps" / "chromium-renegotiation-trickle.json.gz"  # webrtc-internals, gzipped
JITSI = REALWORLD / "dumps" / "jitsi-chrome-relay.gz"  # rtcstats-server lines, gzipped


def run_python(code: str, *args: str) -> Run:
    """A library call (`rtcprobe.load`, `load_many`, ...) in a subprocess, under the same limits."""

    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=HANG_GUARD,
                          preexec_fn=_memory_limit, cwd=Path(__file__).parent.parent)
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    """A real capture: the first PeerConnection of a Chromium webrtc-internals dump, imported."""
    assert run_cli("import", str(INTERNALS), "-o", str(tmp_path / "imported")).status == 0
    return sorted((tmp_path / "imported").glob("*.jsonl"))[0]


# -- 1. not regular files ------------------------------------------------------------------------


@pytest.fixture(params=["fifo", "/dev/zero", "/dev/urandom", "directory"])
def not_regular(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(path, what the message says) for each kind of file that is not a regular file."""
    if request.param == "fifo":
        path = tmp_path / "dump.json"
        os.mkfifo(path)  # nothing ever writes to it: opening it for reading blocks unless O_NONBLOCK
        yield str(path), "named pipe (FIFO)"
    elif request.param == "directory":
        (tmp_path / "captures.jsonl").mkdir()
        yield str(tmp_path / "captures.jsonl"), "is a directory"
    else:
        yield request.param, "character device"


@pytest.mark.parametrize("command", ["analyze", "diff", "import", "report"])
def test_cli_refuses_what_is_not_a_regular_file(command: str, not_regular: tuple[str, str], tmp_path: Path) -> None:
    path, said = not_regular
    args = {"analyze": [path], "diff": [str(OFFER), path], "import": [path, "-o", str(tmp_path / "out")],
            "report": [path, "-o", str(tmp_path / "r.html")]}[command]
    assert said in one_error(run_cli(command, *args), path)


@pytest.mark.parametrize("call", ["rtcprobe.load(p)", "rtcprobe.load_many([p])", "rtcprobe.load_negotiation(p)",
                                  "rtcprobe.importers.load_captures(p)"])
def test_library_refuses_what_is_not_a_regular_file(call: str, not_regular: tuple[str, str]) -> None:
    path, said = not_regular
    run = run_python("import sys, rtcprobe, rtcprobe.importers\np = sys.argv[1]\n"
                     f"try:\n    {call}\nexcept rtcprobe.InputError as exc:\n    print(exc)\n", path)
    assert run.status == 0 and "Traceback" not in run.stderr, run.stderr
    assert said in run.stdout and path in run.stdout


def test_proc_file_is_read_with_the_size_limit(tmp_path: Path) -> None:
    """/proc files claim size 0 and may not end: read like any other file, up to the limit."""
    line = one_error(run_cli("analyze", "--max-size", "1K", "/proc/self/maps"), "/proc/self/maps")
    assert "larger than 1 KiB" in line, line


def test_stdin_is_read_with_a_size_limit(tmp_path: Path) -> None:
    sdp = OFFER.read_text()
    ok = run_cli("analyze", "-", "--json", stdin=sdp)
    assert ok.status == 0, ok.stderr
    assert json.loads(ok.stdout)["described"] == "offer"
    assert "larger than 1 KiB" in one_error(run_cli("analyze", "-", "--max-size", "1K", stdin=sdp), "<stdin>")
    assert "invalid JSON" in one_error(run_cli("analyze", "-", stdin='{"offer": 1'), "<stdin>:1")


# -- 2. JSON that Python's json cannot take ------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000  # past the recursion limit
FAIRLY_DEEP = "[" * 900 + "]" * 900  # parses in Python, breaks whatever walks it next
LONG_INT = "7" * 5000  # past int()'s 4,300 digits


@pytest.mark.parametrize("value", [DEEP, FAIRLY_DEEP, LONG_INT], ids=["deep", "fairly-deep", "long-int"])
def test_snapshot_with_json_python_cannot_take(value: str, tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps({"offer": OFFER.read_text(), "http": []})[:-1] + f', "extra": {value}}}')
    line = one_error(run_cli("analyze", str(path)), str(path))
    assert "nested deeper than 200" in line or "longer than 4,300 digits" in line


@pytest.mark.parametrize("value", [DEEP, LONG_INT], ids=["deep", "long-int"])
def test_har_with_json_python_cannot_take(value: str, tmp_path: Path) -> None:
    har = {"log": {"version": "1.2", "entries": [{"startedDateTime": "2025-09-01T12:00:00Z", "request": {
        "method": "POST", "url": "http://127.0.0.1/whip", "headers": [],
        "postData": {"mimeType": "application/sdp", "text": OFFER.read_text()}}}]}}
    path = tmp_path / "session.har"
    path.write_text("\n" + json.dumps(har)[:-1] + f', "x": {value}}}')
    for command in (["analyze", str(path)], ["import", str(path), "-o", str(tmp_path / "out")]):
        line = one_error(run_cli(*command), str(path))
        assert "not a HAR file" in line


def test_dump_values_python_cannot_take_skip_that_series(tmp_path: Path) -> None:
    """A webrtc-internals series whose `values` JSON is too deep or too long: that series is skipped
    and named (as for any `values` that is not JSON); the rest of the real dump imports."""
    dump = json.loads(gzip.decompress(INTERNALS.read_bytes()))
    stats = next(iter(dump["PeerConnections"].values()))["stats"]
    spoiled = [key for key in stats if stats[key].get("statsType") == "outbound-rtp"
               and key.endswith(("-bytesSent", "-packetsSent"))][:2]
    stats[spoiled[0]]["values"] = "[" + DEEP + "]"
    stats[spoiled[1]]["values"] = f"[{LONG_INT}]"
    path = tmp_path / "dump.json"
    path.write_text(json.dumps(dump))
    run = run_cli("import", str(path), "-o", str(tmp_path / "out"), "--json")
    assert run.status == 0 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert all(key in run.stderr for key in spoiled), run.stderr[-2000:]
    assert len(json.loads(run.stdout)) == len(dump["PeerConnections"])


def test_rtcstats_line_python_cannot_take_is_skipped(tmp_path: Path) -> None:
    """A line of a real Jitsi rtcstats dump replaced by one Python cannot take: skipped and named."""
    lines = gzip.decompress(JITSI.read_bytes()).decode().splitlines()
    lines.insert(5, f'["getstats", "PC_0", {DEEP}, 1600000000000]')
    lines.insert(6, f'["getstats", "PC_0", {LONG_INT}, 1600000000000]')
    path = tmp_path / "jitsi.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    run = run_cli("import", str(path), "-o", str(tmp_path / "out"))
    assert run.status == 0 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert f"{path}: line(s) 6, 7 skipped" in run.stderr, run.stderr[-2000:]


def test_capture_line_python_cannot_take_is_skipped(capture: Path, tmp_path: Path) -> None:
    lines = capture.read_text().splitlines()
    lines[1:1] = ['{"event": "note", "t": 0, "x": ' + DEEP + "}", '{"event": "note", "t": ' + LONG_INT + "}"]
    path = tmp_path / "capture.jsonl"
    path.write_text("\n".join(lines) + "\n")
    run = run_cli("report", str(path), "-o", str(tmp_path / "r.html"))
    assert run.status == 0 and "Traceback" not in run.stderr, run.stderr[-2000:]
    assert f"{path}:2" in run.stderr and f"{path}:3" in run.stderr, run.stderr


def test_capture_message_python_cannot_take_has_no_type(capture: Path, tmp_path: Path) -> None:
    """A recorded data-channel message (text) too deep or too long for Python's json: the report
    shows it with no JSON `type`, like any text that is not JSON."""
    lines = capture.read_text().splitlines()
    for text in (DEEP[:9000], "[" * 2000, LONG_INT):
        lines.insert(2, json.dumps({"event": "dc_message", "t": 0.5, "label": "events", "direction": "received",
                                    "size": len(text), "binary": False, "data": text, "truncated": False}))
    path = tmp_path / "messages.jsonl"
    path.write_text("\n".join(lines) + "\n")
    run = run_cli("report", str(path), "-o", str(tmp_path / "r.html"))
    assert run.status == 0 and "Traceback" not in run.stderr, run.stderr[-2000:]


def test_load_json_names_file_and_line() -> None:
    with pytest.raises(InputError, match=r"^f\.jsonl:7: JSON nested deeper than 200 levels$"):
        load_json(DEEP, "f.jsonl", 7)
    with pytest.raises(InputError, match=r"^f\.jsonl:7: JSON integer longer than 4,300 digits"):
        load_json(LONG_INT, "f.jsonl", 7)
    assert load_json("[" * limits.MAX_JSON_DEPTH + "]" * limits.MAX_JSON_DEPTH, "f") == eval(
        "[" * limits.MAX_JSON_DEPTH + "]" * limits.MAX_JSON_DEPTH)


# -- 3. decompression bombs ----------------------------------------------------------------------


def gzip_bomb(path: Path, start: bytes, size: int, end: bytes = b"") -> Path:
    """`start`, then `size` zeros (streamed: the test never holds them), then `end`, gzipped."""
    zeros = b"0" * (1 << 20)
    with gzip.open(path, "wb", compresslevel=9) as f:
        f.write(start)
        for _ in range(size >> 20):
            f.write(zeros)
        f.write(end)
    return path


@pytest.mark.parametrize("kind", ["webrtc-internals", "rtcstats-lines"])
def test_gzip_bomb_stops_at_the_size_limit(kind: str, tmp_path: Path) -> None:
    """A ~0.7 MB gzip that expands past the default limit (512 MiB): one line, bounded memory."""
    start = (b'{"PeerConnections": {}, "getUserMedia": [], "UserAgent": "' if kind == "webrtc-internals"
             else b'["connectionInfo", null, "' )
    bomb = gzip_bomb(tmp_path / "dump.gz", start, limits.MAX_INPUT_BYTES + (16 << 20), b'"}')
    assert bomb.stat().st_size < 2 << 20
    for command in (["import", str(bomb), "-o", str(tmp_path / "out")], ["analyze", str(bomb)]):
        line = one_error(run_cli(*command), str(bomb))
        assert "larger than 512 MiB when decompressed" in line and "--max-size" in line


def test_max_size_sets_the_limit_both_ways(tmp_path: Path) -> None:
    """The real dump expands to ~434 KiB: refused under --max-size 100K, read under the default."""
    line = one_error(run_cli("import", str(INTERNALS), "-o", str(tmp_path / "a"), "--max-size", "100K"), str(INTERNALS))
    assert "larger than 100 KiB when decompressed" in line
    assert run_cli("import", str(INTERNALS), "-o", str(tmp_path / "b"), "--max-size", "1M").status == 0
    plain = tmp_path / "offer.sdp"
    shutil.copy(OFFER, plain)
    assert "larger than 100 bytes" in one_error(run_cli("analyze", str(plain), "--max-size", "100"), str(plain))


def test_a_line_longer_than_the_line_limit_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rtcprobe.importers import files

    monkeypatch.setattr(files, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "lines.gz"
    path.write_bytes(gzip.compress(b'["a", 1, 2, 3]\n["' + b"x" * 5000 + b'"]\n["b", 1, 2, 3]'))
    problems: list[str] = []
    assert [(n, text) for n, text, _ in files.iter_lines(path, problems)] == [(1, '["a", 1, 2, 3]'),
                                                                              (3, '["b", 1, 2, 3]')]
    assert problems == [f"{path}:2: line longer than 1000 bytes, skipped"]


# -- 4. smaller input defects --------------------------------------------------------------------


def test_glob_characters_in_a_path_that_exists(capture: Path, tmp_path: Path) -> None:
    literal = tmp_path / "call[1].jsonl"
    shutil.copy(capture, literal)
    run = run_cli("report", str(literal), "-o", str(tmp_path / "r.html"))
    assert run.status == 0, run.stderr
    found = run_python("import sys, rtcprobe\nprint(len(rtcprobe.load_many(sys.argv[1])))", str(literal))
    assert found.stdout.strip() == "1", found.stderr


def test_permission_denied_is_said() -> None:
    assert os_error_message(PermissionError(errno.EACCES, "Permission denied")) == "permission denied"


def test_unreadable_file_says_permission_denied(tmp_path: Path) -> None:
    """A dump its reader may not open: "permission denied", not "not a browser record"."""
    dump = tmp_path / "dump.gz"
    shutil.copy(INTERNALS, dump)
    dump.chmod(0)
    # root reads anything: without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH it is refused like anyone
    drop = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
    if drop and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv (util-linux) to drop the capability to read anything")
    for command in (["import", str(dump), "-o", str(tmp_path / "out")], ["analyze", str(dump)],
                    ["report", str(dump), "-o", str(tmp_path / "r.html")]):
        proc = subprocess.run([*drop, sys.executable, "-m", "rtcprobe.cli", *command], capture_output=True, text=True,
                              timeout=HANG_GUARD, preexec_fn=_memory_limit)
        assert one_error(Run(proc.returncode, proc.stdout, proc.stderr), str(dump)).endswith("permission denied")


def _memory_limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def test_file_name_with_control_characters_is_printed_escaped(tmp_path: Path) -> None:
    name = tmp_path / "offer\n\x1b]0;owned\x07\x1b[2J.sdp"
    name.write_text("hello\n")
    for command in (["analyze", str(name)], ["import", str(name), "-o", str(tmp_path / "out")],
                    ["report", str(name), "-o", str(tmp_path / "r.html")]):
        line = one_error(run_cli(*command), "offer\\n\\x1b]0;owned\\x07\\x1b[2J.sdp")
        assert "\x1b" not in line and "\x07" not in line


@pytest.mark.parametrize("kind", ["fifo", "deep", "long-int"])
def test_capture_session_file_goes_through_the_guard(kind: str, tmp_path: Path) -> None:
    """`capture --session FILE` reads its file like every other reader (refused before any session)."""
    path = tmp_path / "session.json"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_text(DEEP if kind == "deep" else f'{{"max_tokens": {LONG_INT}}}')
    run = run_cli("capture", "http://127.0.0.1:9/v1/realtime/calls", "--protocol", "openai", "--session", str(path))
    assert ("named pipe" if kind == "fifo" else "JSON") in one_error(run, str(path))

"""`make interop`: the probe against real third-party WebRTC stacks, one row per peer.

Each answerer peer (interop/peers.py) is started as a WHIP endpoint, `rtcprobe capture --json`
publishes to it, and the row says whether the capture completed, whether the profile rtcprobe
read matches what the stack is known to answer and what the stack itself logged as its answer,
and what `rtcprobe check` says of the endpoint (when that command exists in this tree). A peer
that cannot run here is a row with the reason. `--readme` writes the matrix into README.md.

    python interop/run.py [--peers a,b] [--json] [--readme] [--out DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from clients import CLIENTS, run_client  # noqa: E402
from netns import PEER_ADDRESS, Namespace, unavailable_reason  # noqa: E402
from peers import ANSWERERS, CLIENTS_NOT_RUN, Peer, profile_mismatches  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RTCPROBE = [sys.executable, "-m", "rtcprobe.cli"]
README = ROOT / "README.md"
BEGIN, END = "<!-- interop-matrix:begin -->", "<!-- interop-matrix:end -->"
START_TIMEOUT = 20.0  # s for a peer to print "listening" (node + a native module load in ~1 s here)
CAPTURE_SECONDS = 2


@dataclass
class Row:
    peer: str
    stack: str
    capture: str = "not run"  # "completes" or what stopped it
    profile: str = "not run"  # "right (N facts)" or the mismatches
    check: str = "not run"
    seconds: float | None = None  # POST to DTLS connected, as the probe's connect phases measured it
    notes: list[str] = field(default_factory=list)
    ok: bool = False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_available() -> bool:
    """Whether this tree has `rtcprobe check` (issue 15's conformance checker, built in parallel)."""
    proc = subprocess.run([*RTCPROBE, "check", "--help"], capture_output=True, text=True, cwd=ROOT)
    return proc.returncode == 0


def _wait_listening(proc: subprocess.Popen, log: Path) -> str | None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if '"listening"' in log.read_text(errors="replace"):
            return None
        if proc.poll() is not None:
            return f"the peer exited ({proc.returncode}): {log.read_text(errors='replace')[-300:].strip()}"
        time.sleep(0.1)
    return f"the peer did not start within {START_TIMEOUT:.0f} s"


def _logged_answer(log: Path) -> str | None:
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"answer"' in line:
            return json.loads(line)["answer"]
    return None


def _check_column(wrap: list[str], url: str, row: Row) -> str:
    """`rtcprobe check --json` against the endpoint: "passes" or the failed ids (their evidence in
    row.notes, for the lines under the matrix)."""
    proc = subprocess.run([*wrap, *RTCPROBE, "check", url, "--protocol", "whip", "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    try:
        results = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return f"exit {proc.returncode}: {(proc.stderr.strip().splitlines() or ['no output'])[-1]}"
    items = results.get("results", results) if isinstance(results, dict) else results
    failed = [r for r in items if isinstance(r, dict) and r.get("result") == "fail"]
    row.notes += [f"check {r.get('id')}: {r.get('evidence')}" for r in failed]
    if proc.returncode == 0 and not failed:
        return "passes"
    return "fails: " + ", ".join(str(r.get("id")) for r in failed) if failed else f"exit {proc.returncode}"


def run_peer(peer: Peer, workdir: Path, *, with_check: bool) -> Row:
    row = Row(peer.name, peer.stack)
    if reason := peer.missing() or (unavailable_reason() if peer.namespace else None):
        row.capture = f"cannot run here: {reason}"
        return row
    with ExitStack() as stack:
        if peer.namespace:
            ns = stack.enter_context(Namespace())
            wrap, host, port = ns.command([]), PEER_ADDRESS, 8080
        else:
            wrap, host, port = [], "127.0.0.1", free_port()
        log = workdir / f"{peer.name}.peer.log"
        out = stack.enter_context(log.open("w"))
        proc = subprocess.Popen([*wrap, *peer.command(host, port)], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        stack.callback(_stop, proc)
        if problem := _wait_listening(proc, log):
            row.capture = problem
            return row
        url = f"http://{host}:{port}{peer.path}"
        capture = workdir / f"{peer.name}.jsonl"
        relay = stack.enter_context(coturn(workdir)) if peer.relay else []
        done = subprocess.run([*wrap, *RTCPROBE, "capture", url, "-o", str(capture), "--duration",
                               str(CAPTURE_SECONDS), "--no-live", "--json", *relay],
                              capture_output=True, text=True, cwd=ROOT, timeout=120)
        try:
            result = json.loads(done.stdout)
        except json.JSONDecodeError:
            row.capture = f"exit {done.returncode}: {(done.stderr.strip().splitlines() or ['no output'])[-1]}"
            return row
        row.capture = "completes" if result["reason"] == "completed" else f"{result['reason']}: {result['diagnosis']}"
        dtls = [p["end"] for p in result["connect"]["phases"] if p["name"] == "dtls" and p.get("end") is not None]
        row.seconds = dtls[0] if dtls else None
        row.notes += [result["diagnosis"], f"ICE: {result.get('ice_detail')}"]
        if peer.relay and "relay" not in str(result.get("ice_detail")):
            row.capture = f"completes, but not through the relay: {result.get('ice_detail')}"
        wrong = profile_mismatches(peer, result["profile"]["rows"], _logged_answer(log))
        row.profile = "right" if not wrong else "wrong: " + "; ".join(wrong)
        if with_check:
            row.check = _check_column(wrap, url, row)
        row.ok = row.capture == "completes" and not wrong
    return row


@contextlib.contextmanager
def coturn(workdir: Path) -> Iterator[list[str]]:
    """coturn on 127.0.0.1 (UDP), relaying on 127.0.0.1 to loopback peers; yields the capture flags
    that make the probe use it, relay-only. The credential is a throwaway of this run."""
    port, secret = free_port(), "interop-turn-pw"
    log = workdir / "coturn.log"
    with log.open("w") as out:
        proc = subprocess.Popen(["turnserver", "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
                                 "--listening-port", str(port), "--no-tls", "--no-dtls", "--lt-cred-mech",
                                 "--user", f"interop:{secret}", "--realm", "rtcprobe.interop", "--no-cli",
                                 "--allow-loopback-peers", "--min-port", "49152", "--max-port", "65535",
                                 "--log-file", "stdout", "--simple-log"], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:  # ready once its TCP listener accepts
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield ["--ice-server", f"turn:127.0.0.1:{port}", "--ice-username", "interop", "--ice-credential", secret,
               "--relay-only"]
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def markdown(rows: list[Row], check_note: str) -> str:
    evidence = [f"- {r.peer}, {n.removeprefix('check ')}" for r in rows for n in r.notes if n.startswith("check ")]
    if evidence:
        check_note = "\n".join(filter(None, [check_note, "Evidence of each failed check:", "", *evidence]))
    lines = ["| peer | stack | capture | profile read right | `rtcprobe check` | POST→DTLS (s) |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        seconds = f"{r.seconds:.2f}" if r.seconds is not None else "–"
        cells = [r.peer, r.stack, r.capture, r.profile, r.check, seconds]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + ("\n\n" + check_note if check_note else "")


def write_readme(table: str) -> None:
    text = README.read_text()
    block = f"{BEGIN}\n{table}\n{END}"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n## Interop matrix\n\n" + block + "\n"
    README.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", help="comma-separated peer names (default: all)")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--readme", action="store_true", help="write the matrix into README.md")
    parser.add_argument("--out", type=Path, help="keep captures and peer logs here")
    args = parser.parse_args(argv)
    chosen = set(args.peers.split(",")) if args.peers else None
    names = [p.name for p in ANSWERERS] + [c.name for c in CLIENTS]
    peers = [p for p in ANSWERERS if chosen is None or p.name in chosen]
    clients = [c for c in CLIENTS if chosen is None or c.name in chosen]
    if chosen and (unknown := chosen - set(names)):
        parser.error(f"unknown peer(s) {', '.join(sorted(unknown))}; known: {', '.join(names)}")
    with_check = check_available()
    note = "" if with_check else "`rtcprobe check` is not in this tree yet: its column is \"not run\"."
    workdir = args.out or Path(tempfile.mkdtemp(prefix="rtcprobe-interop-"))
    workdir.mkdir(parents=True, exist_ok=True)
    rows = []
    for peer in peers:
        started = time.monotonic()
        rows.append(run_peer(peer, workdir, with_check=with_check))
        print(f"{peer.name}: {rows[-1].capture} ({time.monotonic() - started:.1f} s)", file=sys.stderr)
    for client in clients:
        started = time.monotonic()
        rows.append(Row(client.name, client.stack, **run_client(client, workdir)))
        rows[-1].ok = rows[-1].capture == "completes" and rows[-1].profile == "right"
        print(f"{client.name}: {rows[-1].capture} ({time.monotonic() - started:.1f} s)", file=sys.stderr)
    if chosen is None:
        rows += [Row(name, stack, capture=f"not run: {reason}") for name, stack, reason in CLIENTS_NOT_RUN]
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=2))
    else:
        print(markdown(rows, note))
    if args.readme:
        write_readme(markdown(rows, note))
    return 0 if all(r.ok for r in rows if r.capture != "not run" and not r.capture.startswith(("cannot", "not run"))) else 1


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())

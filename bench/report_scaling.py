"""HTML report generation time and peak memory for 1, 10 and 100 captures of 30 s each.

    .venv/bin/python bench/report_scaling.py [--counts 1,10,100] [--seconds 30] [--source CAPTURE] [--json OUT]

Captures: running 100 real 30-second sessions would measure the network stack, not the report, so the
30 s captures are made from one real capture (`--source`, else a fresh 5 s `rtcprobe demo` session
against the in-process reference target: audio, 640x360 video, oai-events) by time-stretching its
steady state:

- the set-up events (HTTP, candidates, ICE/DTLS states, first RTP, data-channel open and the demo's
  messages) are kept as recorded;
- the events of the steady window, from the first stats sample to the last periodic one (RTCP
  packets, stats samples, data-channel messages), are replicated back to back until the capture
  lasts `--seconds`, each copy shifted by the window's length; cumulative counters in the copied
  stats reports (packets*, bytes*, *Count, packetsLost, totalRoundTripTime ...) grow by the window's
  increment per copy, and stats timestamps move with the copy, so bitrates and RTT read as in the
  real session;
- teardown events (the final stats sample, close states, end) move to the new end; each capture gets
  its own start time and file name.

Each count runs in a fresh child interpreter (imports and matplotlib's font cache warmed before the
clock starts), twice: once timed (wall and process CPU time, ru_maxrss), once under tracemalloc
(peak of Python allocations; tracemalloc slows the run, so it is not timed). Growth is reported as
the exponent k in time ∝ N^k between consecutive counts (1.0 is linear), and for memory also as MB
per added capture (the report spools each capture's sections to a temporary file, so memory should
stay nearly flat).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import markdown_table  # noqa: E402

#: Stats fields that count up over a session (W3C cumulative counters).
COUNTER_PREFIXES = ("packets", "bytes", "headerBytes", "retransmitted", "total", "reports", "framesEncoded",
                    "framesDecoded", "framesSent", "framesReceived", "roundTripTimeMeasurements")
TIMESTAMP_FIELDS = ("timestamp", "lastPacketReceivedTimestamp")


def _is_counter(name: str, value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and (name.startswith(COUNTER_PREFIXES) or name.endswith("Count")))


def _shift_stats(event: dict[str, Any], offset: float, increments: dict[tuple[str, str], float],
                 copies: int) -> dict[str, Any]:
    out = copy.deepcopy(event)
    out["t"] = round(event["t"] + offset, 6)
    for report in out.get("reports", []):
        for name, value in list(report.items()):
            if name in TIMESTAMP_FIELDS and isinstance(value, int | float):
                report[name] = value + offset
            elif name == "remoteTimestamp" and isinstance(value, int | float):
                report[name] = value + offset * 1000  # epoch milliseconds
            elif _is_counter(name, value):
                grown = value + copies * increments.get((report.get("id", ""), name), 0)
                report[name] = int(grown) if isinstance(value, int) else grown
    return out


def stretch(header: dict[str, Any], events: list[dict[str, Any]], seconds: float, index: int) -> list[dict[str, Any]]:
    """The capture's events lasting `seconds` (see the module docstring); `index` varies the start time."""
    stats = [e for e in events if e["event"] == "stats"]
    if len(stats) < 3:
        raise SystemExit("the source capture needs at least three stats samples (a few seconds of media)")
    start, stop = stats[0]["t"], stats[-2]["t"]  # the last sample is the final one, taken at teardown
    window = stop - start
    first, last = {r["id"]: r for r in stats[0]["reports"]}, {r["id"]: r for r in stats[-2]["reports"]}
    increments = {(rid, name): value - first[rid].get(name, 0) for rid, report in last.items() if rid in first
                  for name, value in report.items() if _is_counter(name, value)}
    head = [e for e in events if e["t"] < start]
    steady = [e for e in events if start <= e["t"] < stop and e["event"] in ("rtcp", "stats", "dc_message")]
    tail = [e for e in events if e["t"] >= stop]
    copies = max(1, math.ceil((seconds - (events[-1]["t"] - window)) / window))
    out = list(head)
    for k in range(copies):
        for e in steady:
            out.append(_shift_stats(e, k * window, increments, k) if e["event"] == "stats"
                       else {**e, "t": round(e["t"] + k * window, 6)})
    added = (copies - 1) * window
    for e in tail:
        shifted = _shift_stats(e, added, increments, copies - 1) if e["event"] == "stats" else {
            **e, "t": round(e["t"] + added, 6)}
        if shifted["event"] == "end":
            shifted["duration"] = round(e.get("duration", e["t"]) + added, 6)
        out.append(shifted)
    return [{**header, "started_at_epoch": header["started_at_epoch"] + 60 * index}] + out


def make_captures(source: Path, folder: Path, count: int, seconds: float) -> list[Path]:
    lines = [json.loads(line) for line in source.read_text().splitlines() if line.strip()]
    header, events = lines[0], lines[1:]
    paths = []
    for i in range(count):
        path = folder / f"stretched-{i:03d}.jsonl"
        path.write_text("\n".join(json.dumps(e) for e in stretch(header, events, seconds, i)) + "\n")
        paths.append(path)
    return paths


def source_capture(given: str | None, scratch: Path) -> Path:
    if given:
        return Path(given)
    from rtcprobe.commands.demo import run_demo

    print("recording a 5 s demo session to stretch", file=sys.stderr)
    _, path = asyncio.run(run_demo(5.0, scratch, live=False))
    return Path(path)


def child(count: int, folder: Path, traced: bool) -> dict[str, Any]:
    """One measurement in this (fresh) interpreter."""
    from matplotlib.figure import Figure

    from rtcprobe.report import plots
    from rtcprobe.report.html import write_report

    plots.to_data_uri(Figure(figsize=(2, 1)))  # warm matplotlib (font cache, Agg) outside the clock
    paths = sorted(folder.glob("stretched-*.jsonl"))[:count]
    output = folder / f"report-{count}.html"
    if traced:
        tracemalloc.start()
        write_report(paths, output)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"tracemalloc_peak_mb": round(peak / 2**20, 1)}
    wall, cpu = time.perf_counter(), time.process_time()
    info = write_report(paths, output)
    return {"seconds": round(time.perf_counter() - wall, 3), "cpu_seconds": round(time.process_time() - cpu, 3),
            "maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "report_mb": round(info.bytes / 2**20, 2), "captures": len(info.captures)}


def run_child(count: int, folder: Path, traced: bool) -> dict[str, Any]:
    args = [sys.executable, __file__, "--child", str(count), "--folder", str(folder)] + (["--traced"] if traced else [])
    done = subprocess.run(args, check=True, capture_output=True, text=True, cwd=REPO)
    return json.loads(done.stdout.strip().splitlines()[-1])


def exponent(a: tuple[int, float], b: tuple[int, float]) -> float | None:
    (n1, v1), (n2, v2) = a, b
    return round(math.log(v2 / v1) / math.log(n2 / n1), 2) if v1 > 0 and v2 > 0 and n2 != n1 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="1,10,100")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--source", help="a real capture to stretch (default: a fresh 5 s demo session)")
    parser.add_argument("--json", dest="json_out", help="also write the results here")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, Path(args.folder), args.traced)))
        return

    counts = sorted({int(c) for c in args.counts.split(",")})
    with tempfile.TemporaryDirectory(prefix="rtcprobe-report-bench-") as scratch:
        folder = Path(scratch)
        source = source_capture(args.source, folder)
        paths = make_captures(source, folder, max(counts), args.seconds)
        sample = paths[0].read_text().splitlines()
        rows = []
        for count in counts:
            timed = run_child(count, folder, traced=False)
            traced = run_child(count, folder, traced=True)
            rows.append({"captures": count, **timed, **traced})
            print(f"{count:4d} captures: {timed['seconds']:.2f} s, tracemalloc peak {traced['tracemalloc_peak_mb']} MB",
                  file=sys.stderr)
    for before, after in zip(rows, rows[1:], strict=False):
        after["time_exponent"] = exponent((before["captures"], before["seconds"]), (after["captures"], after["seconds"]))
        after["memory_exponent"] = exponent((before["captures"], before["tracemalloc_peak_mb"]),
                                            (after["captures"], after["tracemalloc_peak_mb"]))
        after["mb_per_added_capture"] = round((after["tracemalloc_peak_mb"] - before["tracemalloc_peak_mb"])
                                              / (after["captures"] - before["captures"]), 2)
    result = {
        "source": str(source.relative_to(REPO)) if source.is_relative_to(REPO) else f"fresh demo ({source.name})",
        "capture_seconds": args.seconds, "events_per_capture": len(sample) - 1,
        "capture_bytes": sum(len(line) + 1 for line in sample), "rows": rows,
    }
    print(json.dumps(result, indent=2))
    print(markdown_table(
        ["captures", "time (s)", "ms / capture", "CPU (s)", "time exponent", "tracemalloc peak (MB)",
         "MB / added capture", "max RSS (MB)", "report (MB)"],
        [[r["captures"], r["seconds"], round(1000 * r["seconds"] / r["captures"]), r["cpu_seconds"],
          r.get("time_exponent"), r["tracemalloc_peak_mb"], r.get("mb_per_added_capture"), r["maxrss_mb"],
          r["report_mb"]] for r in rows]), file=sys.stderr)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

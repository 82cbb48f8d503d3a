"""Import time and peak memory for big webrtc-internals dumps, against json.load of the same file.

    .venv/bin/python bench/import_scaling.py [--sizes 10,100,500] [--keep DIR]

Each dump is generated in a temporary directory (deleted afterwards) from the real Chromium dump in
tests/data: every stats series of its PeerConnection is extended to webrtc-internals' cap of 1000
samples, 1 s apart, with counters that keep counting, gauges that wander, and ids that stay; the
PeerConnection is repeated under new PeerConnection ids (four variants, counters shifted) until the
file reaches the size: about 7 MB per PeerConnection, so sizes are rounded up to whole ones.
Every measurement runs in a fresh interpreter: time is wall clock, memory is the peak resident
set size above what that interpreter held before it started (so imports are not counted).

Workloads, all on the same file:
  json_load      json.load(file): the reference
  json_load_values  json.load, then json.loads of every series' `values` string (the least any
                 importer must parse), kept in memory
  negotiations   what `analyze`/`diff` read from a dump: descriptions, candidates, states; no stats
  import_files   what `rtcprobe import` does: every event and stats sample, redacted, written as JSONL
  in_memory      load_captures(): the same events kept as Capture objects (for Jupyter)
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "tests" / "data" / "import-chromium-webrtc_internals_dump.gz"
SAMPLES = 1000
T0 = 1_795_000_000_000.0

WORKLOADS = {
    "json_load": "import json\ndef work(path, out):\n    with open(path) as f:\n        json.load(f)\n",
    "json_load_values": ("import json\ndef work(path, out):\n    with open(path) as f:\n        dump = json.load(f)\n"
                         "    for pc in dump['PeerConnections'].values():\n"
                         "        for series in pc['stats'].values():\n"
                         "            series['values'] = json.loads(series['values'])\n"),
    "negotiations": ("from rtcprobe.importers import load_captures\n"
                     "def work(path, out):\n    load_captures(path, stats=False)\n"),
    "import_files": ("from rtcprobe.importers import write_captures\n"
                     "def work(path, out):\n    write_captures(path, out)\n"),
    "in_memory": ("from rtcprobe.importers import load_captures\n"
                  "def work(path, out):\n    load_captures(path)\n"),
}

RUNNER = """
import resource, sys, time
{code}
def rss_kb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * resource.getpagesize() // 1024
before = rss_kb()
start = time.perf_counter()
work(sys.argv[1], sys.argv[2])
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(elapsed, max(peak - before, 0) * 1024)
"""


def _extend(values: list[Any], rng: random.Random, shift: int) -> list[Any]:
    """A series of SAMPLES points in the spirit of the recorded one."""
    first, last = values[0], values[-1]
    if isinstance(first, bool) or not isinstance(first, int | float):
        return [last] * SAMPLES
    step = (last - first) / max(len(values) - 1, 1)
    noise = abs(step) * 0.1 + (abs(last) * 0.01 if isinstance(last, float) else 0)
    series = first + step * np.arange(SAMPLES) + np.asarray([rng.uniform(-noise, noise) for _ in range(SAMPLES)])
    if isinstance(first, int) and isinstance(last, int):
        series = np.maximum.accumulate(np.round(series).astype(np.int64)) + shift
        return series.tolist()
    return np.round(series, 6).tolist()


def _peer(template: dict[str, Any], index: int, rng: random.Random) -> dict[str, Any]:
    stamps = (T0 + 1000.0 * np.arange(SAMPLES) + index * 0.001).round(3).tolist()
    start = "2026-11-18T10:13:20.000Z"
    end = "2026-11-18T10:29:59.000Z"
    stats = {}
    for key, entry in template["stats"].items():
        values = json.loads(entry["values"])
        series = stamps if key.endswith("-timestamp") else _extend(values, rng, index)
        stats[key] = {"startTime": start, "endTime": end, "statsType": entry["statsType"],
                      "values": json.dumps(series, separators=(",", ":"))}
    log = [dict(u, timestamp=T0 - 5000 + i) for i, u in enumerate(template["updateLog"])]
    return {"pid": template.get("pid"), "rtcConfiguration": template.get("rtcConfiguration"),
            "stats": stats, "updateLog": log, "url": template.get("url")}


def generate(path: Path, megabytes: int) -> int:
    """Write a dump of about `megabytes` MB, laid out as Chromium writes it (indent 1)."""
    dump = json.loads(gzip.decompress(TEMPLATE.read_bytes()))
    template = dump["PeerConnections"]["9-1"]
    rng = random.Random(7)
    variants = [json.dumps(_peer(template, i, rng), indent=1) for i in range(4)]
    with path.open("w") as f:
        f.write('{\n "getUserMedia": [],\n "PeerConnections": {\n')
        index = 0
        while f.tell() < megabytes * 1_000_000:
            f.write((",\n" if index else "") + f'  "7-{index + 1}": ' + variants[index % len(variants)])
            index += 1
        f.write(f'\n }},\n "UserAgent": {json.dumps(dump.get("UserAgent"))}\n}}\n')
    return index


def measure(workload: str, path: Path, out: Path) -> tuple[float, int]:
    code = RUNNER.format(code=WORKLOADS[workload])
    done = subprocess.run([sys.executable, "-c", code, str(path), str(out)], capture_output=True, text=True,
                          check=True, cwd=REPO)
    seconds, peak = done.stdout.split()
    return float(seconds), int(peak)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,100,500", help="dump sizes in MB (default 10,100,500)")
    parser.add_argument("--keep", type=Path, help="generate the dumps here and keep them")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="rtcprobe-import-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for megabytes in (int(s) for s in args.sizes.split(",")):
            path = folder / f"webrtc_internals_dump_{megabytes}mb.txt"
            peers = generate(path, megabytes)
            size = path.stat().st_size
            row: dict[str, Any] = {"dump_mb": round(size / 1e6, 1), "peer_connections": peers}
            for workload in WORKLOADS:
                out = folder / f"captures-{megabytes}-{workload}"
                seconds, peak = measure(workload, path, out)
                row[f"{workload}_s"] = round(seconds, 2)
                row[f"{workload}_peak_mb"] = round(peak / 1e6)
                shutil.rmtree(out, ignore_errors=True)
            for workload in ("negotiations", "import_files", "in_memory"):
                row[f"{workload}_time_ratio"] = round(row[f"{workload}_s"] / row["json_load_s"], 2)
                row[f"{workload}_peak_over_file"] = round(row[f"{workload}_peak_mb"] * 1e6 / size, 2)
            row["json_load_peak_over_file"] = round(row["json_load_peak_mb"] * 1e6 / size, 2)
            results.append(row)
            print(json.dumps(row), flush=True)
            if not args.keep:
                path.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

"""How many concurrent sessions one core holds: the aiortc probe (`rtcprobe load`) against headless
Chromium peer connections, on the same machine, in the same run, against the same target.

    .venv/bin/python bench/load_capacity.py [--audio-steps 25,50,...] [--video-steps 5,10,...]
        [--page-steps 2,4,...] [--pc-steps 5,10,...] [--json OUT]

The target is `rtcprobe serve` pinned to the last core; everything measured (the `load` worker, or
Chromium with all its processes) is pinned to core 0, so "per core" is one core. A step of N holds N
sessions at once (ramped at 25/s, each lasting until all N overlap) and passes when < 1 % failed and
connect p95 is < 1 s: for both, the span from creating the peer connection (offer, gathering) to
`connected` (the probe's capture start to DTLS connected; its time to first media is shown too); each
kind climbs its steps until one fails. Memory per session: the rise of the peak RSS of the measured
processes (load's process tree, or every Chromium process) from the smallest to the largest passing
step, divided by the sessions added. The host's load average is printed: on a shared machine the
capacity is that of the core left over.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser import Chromium, chromium_missing_reason  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RAMP_RATE = 25.0
HOLD = 4.0  # seconds every session of a step overlaps with all the others


def tree_rss_mib(root: int) -> float:
    """RSS of `root` and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                parents[int(entry.name)] = int(stat[1])
                rss[int(entry.name)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, IndexError, ValueError):
                continue
    family, frontier = {root}, [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier and pid not in family]
        family.update(frontier)
    return sum(rss.get(pid, 0) for pid in family) / 2**20


class PeakRss:
    """Samples a process tree's RSS (less the `exclude` tree's) every 0.3 s; `peak` is the highest seen."""

    def __init__(self, root: int, exclude: int | None = None) -> None:
        self.root, self.exclude, self.peak, self._stop = root, exclude, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.3):
            less = tree_rss_mib(self.exclude) if self.exclude is not None else 0.0
            self.peak = max(self.peak, tree_rss_mib(self.root) - less)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return round(self.peak, 1)


def start_target(echo: str) -> tuple[subprocess.Popen[str], str]:
    last = max(os.sched_getaffinity(0))
    port_file = Path(tempfile.mkdtemp()) / "serve.log"
    out = port_file.open("w")
    proc = subprocess.Popen(["taskset", "-c", str(last), sys.executable, "-m", "rtcprobe.cli", "serve", "--port", "0",
                             "--max-sessions", "5000", "--max-connections-per-ip", "5000", "--echo", echo],
                            cwd=REPO, stdout=out, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while "Ctrl-C to stop" not in port_file.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"serve did not start: {port_file.read_text()[-500:]}")
        time.sleep(0.2)
    url = next(w for w in port_file.read_text().split() if w.startswith("http://127.0.0.1:") and w.endswith("/whip"))
    return proc, url


def probe_step(url: str, n: int, audio_only: bool, out_dir: Path) -> dict:
    """`rtcprobe load` of N sessions on one worker (core 0): pass/fail, p95, peak RSS."""
    duration = n / RAMP_RATE + HOLD
    cmd = [sys.executable, "-m", "rtcprobe.cli", "load", url, "--sessions", str(n), "--rate", f"{RAMP_RATE:g}/s",
           "--workers", "1", "--lite", "--duration", f"{duration:g}", "--json", "-o", str(out_dir / f"{n}")]
    proc = subprocess.Popen(cmd + (["--audio-only"] if audio_only else []), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    peak = PeakRss(proc.pid)
    stdout, _ = proc.communicate(timeout=600)
    rss = peak.stop()
    document = json.loads(stdout)
    failed = sum(document["failed"].values())
    p95 = document["metrics"]["connected"]["p95"]  # the span Chromium's is measured over
    return {"sessions": n, "completed": document["completed"], "failed": document["failed"],
            "connect_p95_ms": p95, "to_media_p95_ms": document["metrics"]["connect"]["p95"], "peak_rss_mib": rss, "passed": failed < 0.01 * n and p95 is not None and p95 < 1000}


PAGE_JS = """async ({url, n}) => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true});
  const times = []; let failed = 0; window.__pcs = window.__pcs || [];
  const one = async (i) => {
    await new Promise(r => setTimeout(r, i * 1000 / __RATE__));
    const pc = new RTCPeerConnection(); window.__pcs.push(pc);
    stream.getAudioTracks().forEach(t => pc.addTrack(t.clone(), stream));
    const start = performance.now();
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise(r => { if (pc.iceGatheringState === 'complete') r();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && r(); setTimeout(r, 3000); });
      const resp = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/sdp'}, body: pc.localDescription.sdp});
      if (resp.status !== 201) throw new Error('status ' + resp.status);
      await pc.setRemoteDescription({type: 'answer', sdp: await resp.text()});
      await new Promise((ok, no) => { const t = setTimeout(() => no(new Error('timeout')), 15000);
        const check = () => { if (pc.connectionState === 'connected') { clearTimeout(t); ok(); } };
        pc.onconnectionstatechange = check; check(); });
      times.push(performance.now() - start);
    } catch (e) { failed += 1; }
  };
  await Promise.all(Array.from({length: n}, (_, i) => one(i)));
  await new Promise(r => setTimeout(r, __HOLD__));
  return {times, failed};
}""".replace("__RATE__", f"{RAMP_RATE:g}").replace("__HOLD__", f"{HOLD * 1000:g}")


def p95(values: list[float]) -> float | None:
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def chromium_step(chromium: Chromium, url: str, n: int, pages: int, target: int) -> dict:
    """N audio peer connections in Chromium: one page each (pages == n) or all in one page."""
    per_page = n // pages

    async def run() -> list[dict]:
        opened = [await chromium.new_page() for _ in range(pages)]
        try:
            return list(await asyncio.gather(*(p.evaluate(PAGE_JS, {"url": url, "n": per_page}, timeout=120)
                                               for p in opened)))
        finally:
            for page in opened:
                await page.close()

    peak = PeakRss(os.getpid(), exclude=target)  # Chromium's processes are this script's descendants; serve is not counted
    results = chromium.run(run, timeout=300)
    rss = peak.stop()
    times = [t for r in results for t in r["times"]]
    failed = sum(r["failed"] for r in results)
    worst = p95(times)
    return {"sessions": n, "pages": pages, "completed": len(times), "failed": failed,
            "connect_p95_ms": None if worst is None else round(worst, 1), "peak_rss_mib": rss,
            "passed": failed < 0.01 * n and worst is not None and worst < 1000}


def climb(name: str, steps: list[int], step) -> dict:  # noqa: ANN001 - a step function
    rows = []
    for n in steps:
        row = step(n)
        rows.append(row)
        print(f"{name}: {json.dumps(row)}", flush=True)
        if not row["passed"]:
            break
    passing = [r for r in rows if r["passed"]]
    best = passing[-1]["sessions"] if passing else 0
    per_session = None
    if len(passing) >= 2:
        a, b = passing[0], passing[-1]
        per_session = round((b["peak_rss_mib"] - a["peak_rss_mib"]) / (b["sessions"] - a["sessions"]), 2)
    return {"rows": rows, "sustained": best, "rss_mib_per_session": per_session}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio-steps", default="25,50,75,100,150,200")
    parser.add_argument("--video-steps", default="2,5,10,20,40")
    parser.add_argument("--page-steps", default="1,2,4,8,16")
    parser.add_argument("--pc-steps", default="2,5,10,20,40,80")
    parser.add_argument("--target-echo", choices=("packets", "decoded"), default="packets",
                        help="serve --echo: packets (default) keeps the target off the critical path")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    steps = {k: [int(s) for s in getattr(args, k).split(",") if s] for k in ("audio_steps", "video_steps", "page_steps", "pc_steps")}
    load_before = os.getloadavg()
    target, url = start_target(args.target_echo)  # on the last core
    os.sched_setaffinity(0, {0})  # the measured side, and everything it starts, on core 0
    result: dict = {"cores": os.cpu_count(), "loadavg_before": load_before, "target_echo": args.target_echo}
    work = Path(tempfile.mkdtemp(prefix="rtcprobe-bench-load-"))
    try:
        result["probe_audio"] = climb("probe audio", steps["audio_steps"], lambda n: probe_step(url, n, True, work / "a"))
        result["probe_audio_video"] = climb("probe audio+video", steps["video_steps"],
                                            lambda n: probe_step(url, n, False, work / "av"))
        if chromium_missing_reason() is None:
            with Chromium() as chromium:
                result["chromium_page_each"] = climb("chromium page each", steps["page_steps"],
                                                     lambda n: chromium_step(chromium, url, n, n, target.pid))
                result["chromium_one_page"] = climb("chromium one page", steps["pc_steps"],
                                                    lambda n: chromium_step(chromium, url, n, 1, target.pid))
    finally:
        target.terminate()
        target.wait(30)
    result["loadavg_after"] = os.getloadavg()
    chromium_best = max(result.get("chromium_page_each", {}).get("sustained", 0),
                        result.get("chromium_one_page", {}).get("sustained", 0))
    result["ratio_audio_vs_chromium"] = (round(result["probe_audio"]["sustained"] / chromium_best, 1)
                                         if chromium_best else None)
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, dict)} |
                     {k: {"sustained": v["sustained"], "rss_mib_per_session": v["rss_mib_per_session"]}
                      for k, v in result.items() if isinstance(v, dict)}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""The truth table: the probe's numbers under a known network, against the network's own count
and against Chromium's getStats, in the same session.

    .venv/bin/python bench/truth.py [--quick] [--points SPEC;SPEC...] [--media-seconds 8]
                                    [--seed 9] [--json OUT] [--readme]

Headless Chromium (/usr/bin/chromium) is the far end (tests/chromium_far_end.py: it answers the
probe's offer and sends its fake camera, VP8 + RTX, and microphone back; the test relay sits in
between, without loss, for the quiet point that ends each session). The probe impairs its own
sockets with `--impair SPEC --seed N` (rtcprobe.net), both directions. Each grid point is one
session; references (tests/truth_metrics.py):

- packets lost, both directions: the impairment's drops on the media SSRC between the first and
  the highest packet received (its `rtp_drops` summary, checked equal to the seam's record);
  must be exact. Down: the probe's inbound-rtp; up: Chromium's inbound-rtp (the probe's sent
  packets are what the relay received).
- fraction lost, per RR interval: every report block about a media SSRC, the probe's RRs and
  Chromium's (the probe's remote-inbound-rtp), against floor(256 x the impairment's drops in the
  block's interval / expected) (libwebrtc: 255 x); cumulative lost in the same blocks too. Must
  be exact; a Chromium block whose interval began at a report the impairment dropped is not judged.
- RTT: each of the probe's remote-inbound-rtp samples (re-derived from the capture's SR and
  report blocks) less the time that SR and the report echoing it spent in the impairment
  (delay, jitter, queue and the event loop's lateness, on the impairment's own timestamps) is an
  unimpaired RTT; its median per point must be within 5 ms of the unimpaired RTT, the median of
  those samples pooled over the grid. Shown beside: base + 2 x delay (nominal), Chromium's mean.
- jitter: the probe's inbound-rtp jitter against the RFC 3550 estimator on the impairment's
  release times (the jitter the receiver was handed), within 20 %; the estimator on the entry
  times (what Chromium's sender had before the impairment) beside; in the JSON, Chromium's
  inbound-rtp jitter against the same estimator on what the probe sent.
- NACK / PLI: sent by one end = received by the other (Chromium's getStats) + what the
  impairment dropped (exact up; down, libwebrtc's compounds hide their content: a bound).
- bitrate under `rate=`: Chromium's outbound-rtp video targetBitrate at the end, within the rate.

Grid: one factor at a time around the unimpaired baseline (loss 2/10 %, burst 3 at both losses,
delay 25/100 ms, jitter 20 ms (around 25 ms delay, so that ±20 ms is not clipped at 0), rate
500 kbit), plus two combinations. Unimpaired, Chromium's target stays at about 100-300 kbit/s
here (the probe's REMB, aiortc's receiver-side estimate, caps it, at 640x480 too), under the
500 kbit limit, which then cannot move it; `rate=150kbit` is the point where the limit binds.
`SPEC@WxH` sets the size of Chromium's fake camera (default 320x240: the probe decodes in
Python). The full cross product (3 x 2 x 3 x 2 x 2 = 72 sessions) is not run. `--readme` writes
the table into README.md between the truth-table markers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from browser import Chromium  # noqa: E402  (tests/browser.py: the Chromium harness)
from chromium_far_end import ANSWER_MEDIA, SEED, run_session  # noqa: E402
from truth_metrics import Point, measure  # noqa: E402

from rtcprobe.net.spec import parse_spec  # noqa: E402

GRID = ["none", "loss=2%", "loss=10%", "loss=2%,burst=3", "loss=10%,burst=3", "delay=25ms", "delay=100ms",
        "delay=25ms,jitter=20ms", "rate=500kbit", "rate=150kbit",
        "loss=2%,delay=25ms,jitter=20ms", "loss=10%,burst=3,delay=100ms,jitter=20ms,rate=500kbit"]
QUICK = ["none", "loss=2%,delay=25ms,jitter=20ms"]
RTT_TOLERANCE_MS = 5.0
JITTER_TOLERANCE = 0.20
BEGIN, END = "<!-- truth-table:begin -->", "<!-- truth-table:end -->"


async def run_grid(chromium: Chromium, points: list[str], media_seconds: float, seed: int,
                   out_dir: Path) -> list[Point]:
    results: list[Point] = []
    for index, spec in enumerate(points):
        started = time.monotonic()
        impair, media = split_point(spec)  # "none": the seam is there, doing nothing
        truth = await run_session(chromium, out_dir / f"truth-{index}.jsonl", impair=impair, seed=seed,
                                  media_seconds=media_seconds, media=media)
        point = measure(truth)
        point.spec = spec
        point.values["seconds"] = round(time.monotonic() - started, 1)
        results.append(point)
        print(f"[{index + 1}/{len(points)}] {spec}: {point.values['seconds']} s", file=sys.stderr)
    judge(results)
    return results


def split_point(point: str) -> tuple[str, dict[str, Any]]:
    """`SPEC` or `SPEC@WxH` (the size of Chromium's fake camera) -> (SPEC, Chromium's media)."""
    spec, _, size = point.partition("@")
    width, height = (int(n) for n in size.split("x")) if size else (ANSWER_MEDIA["width"], ANSWER_MEDIA["height"])
    return spec, {**ANSWER_MEDIA, "width": width, "height": height}


def judge(points: list[Point]) -> None:
    """Add the references that need the baseline, and every check's verdict."""
    # The unimpaired RTT: every sample less the time its SR and report spent in the impairment,
    # pooled over the whole grid (one unimpaired session has a handful of samples, and the
    # event loop's stalls on a loaded machine move its median by several ms).
    pooled = [x for p in points for x in p.values.get("rtt beyond wire samples", [])]
    base_rtt = statistics.median(pooled) if pooled else None
    for p in points:
        v = p.values
        spec, _ = parse_spec(split_point(p.spec)[0])
        nominal = (spec.up.delay + spec.down.delay) * 1000
        beyond, wire = v["rtt beyond wire ms"]
        if base_rtt is not None and beyond is not None:
            v["rtt expected ms"] = (base_rtt + nominal, base_rtt + wire)
            if abs(beyond - base_rtt) > RTT_TOLERANCE_MS:
                p.failures.append(f"RTT less the wire's part {beyond:.1f} ms, unimpaired {base_rtt:.1f} "
                                  f"± {RTT_TOLERANCE_MS:g}")
        if v["lost err"] or v["chromium lost err"]:
            p.failures.append("packets lost not exact")
        if v["fraction err"] or v["cumulative err"]:
            p.failures.append("fraction/cumulative lost in an RR not exact")
        for kind in ("audio", "video"):
            probe, wire = v[f"{kind} jitter ms"][:2]
            if probe is not None and wire and abs(probe - wire) > JITTER_TOLERANCE * wire:
                p.failures.append(f"{kind} jitter {probe:.2f} ms vs {wire:.2f} ms")
        sent, dropped, received, chrome_sent, chrome_dropped, probe_received = v["nack"]
        if sent - dropped != received or not 0 <= chrome_sent - probe_received <= chrome_dropped:
            p.failures.append("NACK counts differ")
        sent, dropped, received, chrome_sent, chrome_dropped, probe_received = v["pli"]
        if sent - dropped != received or not 0 <= chrome_sent - probe_received <= chrome_dropped:
            p.failures.append("PLI counts differ")
        rate = max(spec.up.rate, spec.down.rate)
        if rate and v["target kbit"] > rate / 1000:
            p.failures.append(f"Chromium's target {v['target kbit']:.0f} kbit above the rate")
        v["rtt base ms"] = base_rtt


def _f(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _pct(measured: float | None, wire: float | None) -> str:
    if measured is None or not wire:
        return "–"
    return f"{(measured - wire) / wire * 100:+.0f} %"


def table(points: list[Point]) -> str:
    """Markdown: one row per condition, each metric as measured / reference (error)."""
    head = ("| condition | lost ↓ probe / impairment | lost ↑ Chromium / impairment | fraction & cumulative lost, "
            "max error over RR blocks | RTT ms probe median (mean, max, n) / Chromium mean | "
            "expected: base + 2×delay / base + wire | RTT − wire | "
            "jitter ↓ video ms probe / wire (in) | error | jitter ↓ audio ms probe / wire | error | "
            "NACK probe sent − dropped = Chromium received; Chromium sent − ≤dropped = probe received | PLI (same) | Chromium target kbit | late ms up/down | verdict |")
    lines = [head, "|" + "---|" * head.count(" |")]
    for p in points:
        v = p.values
        down = [v[f"{k} lost down"] for k in ("audio", "video")]
        up = [v[f"{k} lost up"] for k in ("audio", "video")]
        expected = v.get("rtt expected ms", (None, None))
        vj, aj = v["video jitter ms"], v["audio jitter ms"]
        nack = v["nack"]
        rtt = v["rtt ms"]
        network = parse_spec(split_point(p.spec)[0])[0]
        rate = max(network.up.rate, network.down.rate)
        cells = [
            f"`{p.spec}`",
            " + ".join(f"{m}/{t}" for m, t, _ in down),
            " + ".join(f"{m}/{t}" for m, t, _ in up),
            f"{v['fraction err']}/256 ({v['rr intervals'][0]} intervals), {v['cumulative err']} "
            f"({v['rr intervals'][1]} blocks)",
            f"{_f(rtt[2])} ({_f(rtt[0])}, {_f(rtt[3])}, {rtt[4]}) / {_f(rtt[1])}",
            f"{_f(expected[0])} / {_f(expected[1])}", _f(v["rtt beyond wire ms"][0]),
            f"{_f(vj[0], 2)} / {_f(vj[1], 2)} ({_f(vj[2], 2)})", _pct(vj[0], vj[1]),
            f"{_f(aj[0], 2)} / {_f(aj[1], 2)}", _pct(aj[0], aj[1]),
            f"{nack[0]} − {nack[1]} = {nack[2]}; {nack[3]} − ≤{nack[4]} = {nack[5]}",
            f"{v['pli'][0]} − {v['pli'][1]} = {v['pli'][2]}; {v['pli'][3]} − ≤{v['pli'][4]} = {v['pli'][5]}",
            f"{v['target kbit']:.0f}" + (f" ≤ {rate / 1000:g}" if rate else ""),
            f"{v['late ms'][0]:.1f}/{v['late ms'][1]:.1f}",
            "ok" if not p.failures else "; ".join(p.failures),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    base = points[0].values.get("rtt base ms") if points else None
    pooled = sum(len(p.values.get("rtt beyond wire samples", [])) for p in points)
    lines.append(f"\nUnimpaired RTT (base): {_f(base)} ms, the median of every RTT sample less its wire part "
                 f"({pooled} samples, all points).")
    return "\n".join(lines)


def write_readme(text: str, command: str) -> None:
    """Replace the marked section of README.md (the rest of the file is left as it is)."""
    path = REPO / "README.md"
    readme = path.read_text()
    start, end = readme.find(BEGIN), readme.find(END)
    if start < 0 or end < 0:
        raise SystemExit(f"README.md: no {BEGIN} ... {END} section to write the table into")
    section = f"{BEGIN}\n```sh\n{command}\n```\n\n{text}\n{END}"
    path.write_text(readme[:start] + section + readme[end + len(END):])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"two points: {'; '.join(QUICK)}")
    parser.add_argument("--points", help="SPECs separated by ';' instead of the grid")
    parser.add_argument("--media-seconds", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--json", type=Path, help="write every figure as JSON")
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args(argv)
    points = args.points.split(";") if args.points else QUICK if args.quick else GRID
    if "none" not in points:
        points = ["none", *points]  # the RTT baseline
    for point in points:
        parse_spec(split_point(point)[0])
    with tempfile.TemporaryDirectory() as tmp, Chromium() as chromium:
        results = asyncio.run(run_grid(chromium, points, args.media_seconds, args.seed, Path(tmp)))
    text = table(results)
    print(text)
    if args.json:
        args.json.write_text(json.dumps([{"spec": p.spec, "values": p.values, "failures": p.failures}
                                         for p in results], indent=1, default=_plain))
    if args.readme:
        args_text = " ".join(argv if argv is not None else sys.argv[1:])
        write_readme(text, f"make truth TRUTH_ARGS='{args_text}'   # = .venv/bin/python bench/truth.py {args_text}")
    return 1 if any(p.failures for p in results) else 0


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, set | tuple) else str(value)


if __name__ == "__main__":
    raise SystemExit(main())

"""SDP parse and analysis time at growing sizes, against bare sdp-transform in the same run.

    .venv/bin/python bench/sdp_scale.py [--sizes 1000,5000,20000,49000] [--kind candidates|attributes]

Each description is the Chromium offer in tests/data with N extra lines appended to its last m-line:
`candidates` (host candidates, distinct addresses and ports) or `attributes` (unknown `a=x-attrN`).
Workloads, best of --repeat runs each:
  sdp_transform  sdp_transform.parse(text): the reference
  parse          rtcprobe.sdp.parse_description(text)
  analyze        parse, then profile() and candidate_set(): what `analyze --json` computes
The exponent is the slope of log(time) over log(lines) between the smallest and largest size:
1.0 is linear, 2.0 quadratic.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import sdp_transform

from rtcprobe.analyze.candidates import candidate_set
from rtcprobe.analyze.profile import profile
from rtcprobe.negotiation import Negotiation
from rtcprobe.sdp import parse_description

REPO = Path(__file__).resolve().parents[1]
OFFER = (REPO / "tests" / "data" / "chromium-offer.sdp").read_text()


def description(n: int, kind: str) -> str:
    if kind == "candidates":
        extra = [f"a=candidate:{i} 1 udp 2122260223 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} "
                 f"{1024 + i % 60000} typ host generation 0" for i in range(n)]
    else:
        extra = [f"a=x-attr{i}:value {i}" for i in range(n)]
    return OFFER.rstrip("\r\n") + "\r\n" + "\r\n".join(extra) + "\r\n"


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def analyze(text: str) -> None:
    parsed = parse_description(text)
    profile(Negotiation("bench", offer=parsed))
    candidate_set(parsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000,20000,49000")
    parser.add_argument("--kind", choices=("candidates", "attributes"), default="candidates")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for n in sizes:
        text = description(n, args.kind)
        bare = best(lambda: sdp_transform.parse(text), args.repeat)  # noqa: B023 - used at once
        parsed = best(lambda: parse_description(text), args.repeat)  # noqa: B023
        analyzed = best(lambda: analyze(text), args.repeat)  # noqa: B023
        lines = text.count("\n")
        rows.append({"lines": lines, "bytes": len(text.encode()), "sdp_transform_s": round(bare, 4),
                     "parse_s": round(parsed, 4), "analyze_s": round(analyzed, 4),
                     "parse_over_bare": round(parsed / bare, 2), "analyze_over_bare": round(analyzed / bare, 2),
                     "analyze_lines_per_s": round(lines / analyzed)})

    def exponent(key: str) -> float:
        first, last = rows[0], rows[-1]
        return round(math.log(last[key] / first[key]) / math.log(last["lines"] / first["lines"]), 2)

    print(json.dumps({"kind": args.kind, "rows": rows,
                      "exponent": {k: exponent(k) for k in ("sdp_transform_s", "parse_s", "analyze_s")}}, indent=2))


if __name__ == "__main__":
    main()

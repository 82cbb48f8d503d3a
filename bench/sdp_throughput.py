"""Profiles per second for a Chromium-sized offer, against a bare sdp_transform.parse in the same run.

    .venv/bin/python bench/sdp_throughput.py [--seconds 3] [--sdp FILE]

The reference is sdp-transform alone on the same text: the ratio says what the model, the line
pass and the analyzers cost on top of the parse they build on.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import sdp_transform

from rtcprobe.analyze.candidates import candidate_set
from rtcprobe.analyze.profile import profile
from rtcprobe.negotiation import Negotiation
from rtcprobe.sdp import parse_description

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SDP = REPO / "tests" / "data" / "chromium-offer.sdp"


def rate(fn: Callable[[], object], seconds: float, rounds: int = 5) -> float:
    """Median calls per second over `rounds` windows of `seconds / rounds` each."""
    results = []
    for _ in range(rounds):
        count, start = 0, time.perf_counter()
        deadline = start + seconds / rounds
        while time.perf_counter() < deadline:
            fn()
            count += 1
        results.append(count / (time.perf_counter() - start))
    return statistics.median(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--sdp", type=Path, default=DEFAULT_SDP)
    args = parser.parse_args()
    text = args.sdp.read_text()

    def full() -> None:
        description = parse_description(text)
        profile(Negotiation("bench", offer=description))
        candidate_set(description)

    bare = rate(lambda: sdp_transform.parse(text), args.seconds)
    parsed = rate(lambda: parse_description(text), args.seconds)
    analyzed = rate(full, args.seconds)
    print(json.dumps({
        "sdp": str(args.sdp.relative_to(REPO) if args.sdp.is_relative_to(REPO) else args.sdp),
        "bytes": len(text.encode()), "lines": len(text.splitlines()),
        "sdp_transform_parse_per_s": round(bare), "rtcprobe_parse_per_s": round(parsed),
        "full_profile_per_s": round(analyzed),
        "full_over_bare_time_ratio": round(bare / analyzed, 2),
        "parse_over_bare_time_ratio": round(bare / parsed, 2),
    }, indent=2))


if __name__ == "__main__":
    main()

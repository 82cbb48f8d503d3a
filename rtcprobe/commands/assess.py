"""`rtcprobe assess CAPTURE...`: the detector pass, stream quality and `--expect` verdicts over
recorded captures and browser dumps; `capture --expect` reuses `gate`. Exit 1 when an expectation
fails (a CI gate), 2 for a malformed expectation or unreadable input."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import dataclass

from rich.console import Console

from ..analyze.detectors import Detection, detect
from ..analyze.expect import (
    METRICS,
    Expectation,
    ExpectationError,
    Outcome,
    evaluate,
    measure,
    parse_expectation,
)
from ..capture import Capture
from ..outputs import check_file
from ..report import jsonout
from ..report.findings import render_expectations, render_findings, render_quality
from ..report.junit import SuiteResult, write_junit
from ..report.terminal import safe
from . import EXIT_CHANGES, EXIT_OK, UsageError, console, warn
from .catalog import summary
from .input_args import add_max_size, reading

EXIT_EXPECTATION_FAILED = EXIT_CHANGES  # 1


def parse_expectations(texts: list[str]) -> list[Expectation]:
    """Every `--expect`, or a usage error (exit 2) quoting the bad part."""
    try:
        return [parse_expectation(t) for t in texts]
    except ExpectationError as exc:
        raise UsageError(str(exc)) from None


@dataclass
class Assessment:
    capture: str
    path: str
    detection: Detection
    outcomes: list[Outcome]

    @property
    def failed(self) -> bool:
        return any(o.failed for o in self.outcomes)


def assess(capture: Capture, expectations: list[Expectation], unmeasured: str = "fail") -> Assessment:
    detection = detect(capture)
    outcomes = evaluate(expectations, measure(capture, detection), unmeasured) if expectations else []
    return Assessment(capture.id, capture.path, detection, outcomes)


def findings_document(a: Assessment) -> dict:
    """Findings, stream quality, MOS and verdicts: in `assess --json` and `capture --json` alike."""
    d = a.detection
    return {"ice_outcome": d.ice_outcome, "ice_detail": d.ice_detail, "findings": d.findings,
            "streams": d.streams, "mos": d.mos, "expectations": a.outcomes}


def document(a: Assessment) -> dict:
    return {"capture": a.capture, **findings_document(a)}


def _suite(a: Assessment) -> SuiteResult:
    return SuiteResult(a.capture, a.outcomes, [f"{f.severity}: {f.code}: {f.detail}" for f in a.detection.findings])


def write_junit_file(path: str, assessments: list[Assessment]) -> None:
    write_junit(path, [_suite(a) for a in assessments])


def render(a: Assessment, out: Console, heading: bool = True) -> None:
    if heading:
        out.print(safe(f"── {a.capture}", "bold"))
    render_findings(a.detection, out)
    render_quality(a.detection, out)
    render_expectations(a.outcomes, out)


def _captures(paths: list[str], pc: str | None) -> Iterator[Capture]:
    """Captures one at a time; a browser dump gives each of its PeerConnections."""
    from ..capture import load
    from ..capture.collection import expand
    from ..importers import detect as detect_format
    from ..importers import load_captures

    for path in expand(paths):
        if detect_format(path) is not None:
            yield from load_captures(path, pc=pc)
        else:
            yield load(path)


@reading("captures")
def cmd_assess(args: argparse.Namespace) -> int:
    expectations = parse_expectations(args.expect)
    if args.junit:
        check_file(args.junit)  # before reading: a verdict that cannot be written is not computed
    out = console()
    assessments = []
    for capture in _captures(args.captures, args.pc):
        warn(capture.problems)
        a = assess(capture, expectations, args.unmeasured)
        assessments.append(a)
        if not args.json:
            render(a, out)
    if args.junit:
        write_junit_file(args.junit, assessments)
    if args.json:
        print(jsonout.dumps([document(a) for a in assessments]))
    elif expectations:
        failed = sum(a.failed for a in assessments)
        out.print(safe(f"{len(assessments) - failed} of {len(assessments)} capture(s) met every expectation",
                       "bold red" if failed else "bold green"))
    return EXIT_EXPECTATION_FAILED if any(a.failed for a in assessments) else EXIT_OK


def add_expect_arguments(p: argparse.ArgumentParser) -> None:
    """`--expect`, `--junit`, `--unmeasured`: shared by `assess` and `capture`."""
    p.add_argument("--expect", action="append", default=[], metavar="EXPR",
                   help="an expectation such as 'connect<500ms', 'loss<2%%', 'mos>=4', 'v2v.p90<1500ms' "
                        "(repeatable; exit status 1 when one fails). Metrics: " + ", ".join(METRICS))
    p.add_argument("--junit", metavar="FILE", help="write the expectations' verdicts as JUnit XML")
    p.add_argument("--unmeasured", choices=("fail", "skip"), default="fail",
                   help="an expectation whose metric the capture lacks fails (default: a gate must not pass "
                        "because its number vanished) or is skipped")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("assess", help=summary("assess"))
    p.add_argument("captures", nargs="+", metavar="CAPTURE",
                   help="capture files or browser dumps (each PeerConnection a capture); globs allowed; - for stdin")
    p.add_argument("--pc", metavar="ID", help="only this PeerConnection of each browser dump")
    add_expect_arguments(p)
    p.add_argument("--json", action="store_true", help="print findings, stream quality and verdicts as JSON")
    add_max_size(p)
    p.set_defaults(handler=cmd_assess)

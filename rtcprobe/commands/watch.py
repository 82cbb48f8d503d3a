"""`rtcprobe watch URL --every 1h --history DIR`: capture on a schedule, keep the history, alert
on a semantic change (`--once` for cron and CI: exit 1 on a change)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from .. import interrupts
from ..matrix.variants import load_variants
from ..redact import redact_url
from ..report.terminal import printable
from ..watch.history import RunRecord, open_history
from ..watch.runner import (
    WatchPlan,
    call_on_change,
    change_summary,
    parse_every,
    run_forever,
    run_once,
)
from . import EXIT_CHANGES, EXIT_OK, UsageError
from .assess import parse_expectations
from .catalog import summary
from .matrix import add_target_arguments, base_options


def _report(record: RunRecord, on_change: str | None, plan: WatchPlan) -> None:
    """One line per run on stdout; on a change an alert line on stderr and --on-change."""
    compared = f" against {record.against}" if record.against else " (first run: nothing to compare)"
    print(f"{record.at} run {record.run}: capture {record.reason}{compared}: "
          f"{len(record.changes)} change(s), {len(record.expectations_failed)} expectation(s) failed", flush=True)
    if not record.changed:
        return
    for line in change_summary(record).splitlines():
        print(f"rtcprobe: watch: CHANGE {record.at}: {printable(line)}", file=sys.stderr, flush=True)
    if on_change:
        status = call_on_change(on_change, record, plan.history)
        if status:
            print(f"rtcprobe: watch: --on-change exited {status}", file=sys.stderr, flush=True)


def cmd_watch(args: argparse.Namespace) -> int:
    try:
        every = parse_every(args.every) if not args.once else 0.0
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if not args.once and not args.every:
        raise UsageError("watch: give --every PERIOD (e.g. 1h), or --once for one run (cron, CI)")
    expectations = parse_expectations(args.expect)
    variants = load_variants(args.variants) if args.matrix else None
    baseline = Path(args.baseline) if args.baseline else None
    if baseline is not None:
        from ..capture import load

        if load(baseline).answer is None:  # a baseline without an answer compares nothing: say so now
            raise UsageError(f"--baseline {baseline}: the capture holds no answer to compare with")
    history = open_history(args.history, redact_url(args.target))
    base = base_options(args, history.runs_dir / "run.jsonl")
    plan = WatchPlan(base, history, baseline, variants, expectations, args.unmeasured)
    if args.once:
        record = interrupts.run(run_once(plan))
        _report(record, args.on_change, plan)
        return interrupts.exit_status(EXIT_CHANGES if record.changed else EXIT_OK)
    print(f"{datetime.now(UTC).isoformat(timespec='seconds')} watching {printable(redact_url(args.target))} every "
          f"{args.every} into {printable(str(history.directory))} (Ctrl-C to stop)", flush=True)
    interrupts.run(run_forever(plan, every, lambda record: _report(record, args.on_change, plan)))
    return interrupts.exit_status(EXIT_OK)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("watch", help=summary("watch"))
    p.add_argument("target", help="URL of the target (as for capture)")
    p.add_argument("--history", required=True, metavar="DIR",
                   help="history directory: one capture per run and changes.jsonl (new, empty, or made by watch)")
    p.add_argument("--every", metavar="PERIOD", help="run every PERIOD: 1h, 30m, 90s, 1h30m")
    p.add_argument("--once", action="store_true", help="one run, then exit: 1 on a change, 0 otherwise (cron, CI)")
    p.add_argument("--baseline", metavar="CAPTURE", help="compare each run with this capture (default: the previous run)")
    p.add_argument("--matrix", action="store_true", help="also run the capability matrix each time and diff it")
    p.add_argument("--variants", metavar="FILE", help="with --matrix: the variants file (as matrix --variants)")
    p.add_argument("--on-change", metavar="CMD",
                   help="run CMD on a change (no shell): the changes on stdin and in RTCPROBE_CHANGES")
    p.add_argument("--expect", action="append", default=[], metavar="EXPR",
                   help="an expectation each run must meet (as capture --expect); a failure is a change")
    p.add_argument("--unmeasured", choices=("fail", "skip"), default="fail",
                   help="an expectation whose metric the run lacks fails (default) or is skipped")
    add_target_arguments(p)
    p.set_defaults(handler=cmd_watch)

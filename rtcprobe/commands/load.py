"""`rtcprobe load URL`: N real probe sessions against one target, ramped and capped, summarised."""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path

from ..limits import LOAD_MAX_RETRY_AFTER
from ..loadtest.backends import LoadPlan, connect_ray, local_workers, run_local, run_ray
from ..loadtest.progress import stderr_progress
from ..loadtest.summary import summarise
from ..outputs import check_file
from ..report.load import render_load, summary_document, write_load_html
from . import EXIT_OK, EXIT_SESSION_FAILED, UsageError, console, timestamped
from .arg_types import non_negative_int, non_negative_seconds, positive_int, positive_seconds
from .catalog import summary
from .probe import add_probe_arguments, add_session_arguments, options_from_args


def _rate(text: str) -> float:
    """`--rate 10` or `--rate 10/s`: sessions started per second."""
    value = text.removesuffix("/s")
    return positive_seconds(value)  # the same check: a finite number > 0


def _plan(args: argparse.Namespace) -> LoadPlan:
    if args.concurrency is not None and args.concurrency < 1:
        raise UsageError(f"--concurrency: expected a whole number >= 1, got {args.concurrency}")
    if args.audio_only and args.audio == "none":
        raise UsageError("--audio-only with --audio none leaves nothing to send")
    out_dir = Path(args.output) if args.output else Path("captures") / timestamped("load", suffix="")
    args.output = str(out_dir / "session.jsonl")  # each session's own file replaces it (worker.capture_name)
    args.video = not args.audio_only
    template = dataclasses.replace(options_from_args(args), lite=args.lite)
    out_dir.mkdir(parents=True, exist_ok=True)
    check_file(out_dir / "load.json")  # before any session: a directory that cannot be written stops here
    return LoadPlan(template, args.sessions, args.concurrency or args.sessions, args.rate, out_dir, args.max_retry_after)


def cmd_load(args: argparse.Namespace) -> int:
    if args.ray:
        connect_ray(args.ray).shutdown()  # a Ray that does not answer: one line, exit 2, nothing written
    plan = _plan(args)
    progress = stderr_progress(plan.sessions, live=not args.no_live and not args.json)
    started = time.monotonic()
    try:
        if args.ray:
            outcomes = run_ray(plan, args.ray, progress, progress.tick)
            backend, workers = f"ray {args.ray}", None
        else:
            workers = args.workers or local_workers()
            outcomes = run_local(plan, workers, progress, progress.tick)
            backend = "local processes"
    finally:
        progress.close()
    result = summarise(outcomes, plan.sessions)
    document = summary_document(result, outcomes, target=plan.template.target, backend=backend,
                                workers=workers, wall_s=time.monotonic() - started, plan=plan)
    (plan.out_dir / "load.json").write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    write_load_html(plan.out_dir / "load.html", document)
    out = console()
    if args.json:
        out.print_json(json.dumps(document))
    else:
        render_load(document, out)
    return EXIT_OK if result.completed == plan.sessions else EXIT_SESSION_FAILED


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("load", help=summary("load"))
    p.add_argument("target", help="URL of the target, as for capture")
    p.add_argument("--sessions", type=positive_int, required=True, metavar="N", help="sessions to run in all")
    p.add_argument("--concurrency", type=positive_int, default=None, metavar="C",
                   help="sessions at once at most (default: all N)")
    p.add_argument("--rate", type=_rate, default=None, metavar="R/s",
                   help="sessions started per second (default: all at once, within --concurrency)")
    p.add_argument("--audio-only", action="store_true", help="audio only (default: audio and the video test pattern)")
    p.add_argument("--lite", action="store_true",
                   help="lighter sessions: RTCP counted, not one event per packet; received media counted, "
                   "not decoded; the tone and the test pattern encoded once and looped")
    p.add_argument("--max-retry-after", type=non_negative_seconds, default=LOAD_MAX_RETRY_AFTER, metavar="S",
                   help="a session answered 503 with Retry-After <= S waits that long and tries once more (0: never)")
    p.add_argument("--workers", type=non_negative_int, default=0, metavar="W",
                   help="local worker processes (default: one per core)")
    p.add_argument("--ray", metavar="ADDRESS|auto",
                   help="run the workers as Ray tasks on the cluster at HOST:PORT (or auto); pip install 'rtcprobe[ray]'")
    p.add_argument("-o", "--output", metavar="DIR", help="directory of the captures, load.json and load.html "
                                                         "(default captures/load-TIME)")
    add_session_arguments(p)
    add_probe_arguments(p)
    p.set_defaults(handler=cmd_load)

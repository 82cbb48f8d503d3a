"""`rtcprobe report CAPTURE... -o reports/NAME.html`: one self-contained HTML file to share."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ..capture.collection import expand
from ..outputs import check_file
from ..report.terminal import printable
from ..watch.history import is_history
from . import EXIT_OK, UsageError, warn
from .catalog import summary
from .input_args import add_max_size, reading


def default_output(captures: list[Path]) -> Path:
    """reports/<capture>.html for one capture, reports/<first>-and-<n>-more.html for several."""
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", captures[0].name.removesuffix(".jsonl"))
    name = stem if len(captures) == 1 else f"{stem}-and-{len(captures) - 1}-more"
    return Path("reports") / f"{name}.html"


@reading("captures")
def cmd_report(args: argparse.Namespace) -> int:
    from ..report.html import write_report

    if len(args.captures) == 1 and is_history(args.captures[0]):  # a watch history: trends and changes
        return _history_report(args)
    paths = expand(args.captures)
    output = Path(args.output) if args.output else default_output(paths)
    if output.suffix.lower() not in (".html", ".htm"):
        raise UsageError(f"-o {output}: the report is HTML; name it NAME.html")
    check_file(output)  # before any capture is read: a report that cannot be written is not rendered
    show_progress = len(paths) > 1 and sys.stderr.isatty() and not args.json
    if show_progress:
        with Progress(TextColumn("report"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}", markup=False),
                      console=Console(stderr=True), transient=True) as progress:
            task = progress.add_task("", total=len(paths))
            info = write_report(paths, output, anonymize_addresses=args.anonymize, title=args.title, pc=args.pc,
                                on_progress=lambda done, name: progress.update(task, completed=done, description=printable(name)))
    else:
        info = write_report(paths, output, anonymize_addresses=args.anonymize, title=args.title, pc=args.pc)
    warn(info.warnings)
    if args.json:
        print(json.dumps({"report": info.path, "captures": info.captures, "failed": info.failed, "bytes": info.bytes,
                          "anonymized": info.anonymized, "addresses_replaced": info.addresses_replaced,
                          "sources": info.sources}, indent=2))
    else:
        failed = f", {len(info.failed)} failed" if info.failed else ""
        anonymized = f", {info.addresses_replaced} address(es) anonymised" if info.anonymized else ""
        print(f"report written to {printable(info.path)} ({len(info.captures)} capture(s){failed}{anonymized}, "
              f"{info.bytes / 1024:.0f} KiB)")
    return EXIT_OK


def _history_report(args: argparse.Namespace) -> int:
    from ..watch.html import write_history_report

    path, runs, changes = write_history_report(args.captures[0], args.output, args.title)
    print(f"report written to {printable(path)} (history: {runs} run(s), {changes} change(s))")
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help=summary("report"))
    p.add_argument("captures", nargs="+", metavar="CAPTURE",
                   help="capture files (captures/*.jsonl) or browser dumps (each PeerConnection a capture); globs allowed")
    p.add_argument("--pc", help="only this PeerConnection of each browser dump (e.g. PC_0, 7-1)")
    p.add_argument("-o", "--output", help="HTML file (default reports/<first capture>.html)")
    p.add_argument("--anonymize", action="store_true",
                   help="replace IP addresses (documentation ranges) and candidate host names, consistently across the report")
    p.add_argument("--title", help="heading of the report")
    p.add_argument("--json", action="store_true", help="print what was written as one JSON document")
    add_max_size(p)
    p.set_defaults(handler=cmd_report)

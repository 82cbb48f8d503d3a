"""`rtcprobe matrix URL`: offer variants against one target, tabulated (terminal, --json, HTML)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from rich.table import Table

from .. import interrupts
from ..matrix.html import matrix_html
from ..matrix.result import SUFFIX, MatrixResult, diff_matrices, load_matrix, write_matrix
from ..matrix.runner import run_matrix
from ..matrix.variants import load_variants
from ..outputs import check_directory, check_file
from ..probe.options import ProbeOptions
from ..profiles import DEFAULT_OFFER
from ..report.terminal import printable, safe
from ..signaling import check_target, guess_protocol
from . import EXIT_CHANGES, EXIT_OK, UsageError, console, timestamped
from .arg_types import positive_seconds
from .catalog import summary
from .probe import PROTOCOL_CHOICES, _timeouts, _token_from_env

VERDICT_STYLE = {"accepted": "green", "dropped": "yellow", "rejected": "red", "refused": "red", "not offered": "dim"}


def base_options(args: argparse.Namespace, output: Path) -> ProbeOptions:
    """What every variant shares: target, protocol, token, timeouts, the offer profile."""
    try:
        check_target(args.target)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    protocol = args.protocol or guess_protocol(args.target)
    return ProbeOptions(target=args.target, output=output, protocol=protocol,
                        token=args.token or _token_from_env(args.token_env, protocol), offer=args.offer,
                        timeouts=_timeouts(args.timeout), duration=args.duration)


def default_directory(target: str) -> Path:
    host = urlsplit(target).hostname or "target"
    return Path("captures") / timestamped("matrix-" + re.sub(r"[^A-Za-z0-9.-]", "_", host), "")


def render_matrix(result: MatrixResult) -> Table:
    table = Table(title=f"capability matrix of {safe(result.target)}", title_justify="left")
    for column in ("variant", "HTTP", "verdict", "answered codec", "detail", *(["media"] if result.media else [])):
        table.add_column(column, overflow="fold")
    for row in result.rows:
        style = VERDICT_STYLE.get(row.verdict, "")
        table.add_row(safe(row.variant), "—" if row.http_status is None else str(row.http_status),
                      f"[{style}]{row.verdict}[/{style}]", safe(row.answered or "—"), safe(row.detail),
                      *([safe(row.media or "—")] if result.media else []))
    return table


def cmd_matrix(args: argparse.Namespace) -> int:
    variants = load_variants(args.variants, args.variant or None)
    out = console()
    if args.list:
        for variant in variants:
            print(f"{printable(variant.name):28} {printable(variant.about)}")
        return EXIT_OK
    if not args.target:
        raise UsageError("matrix: the target URL is required (or --list)")
    directory = Path(args.output) if args.output else default_directory(args.target)
    check_directory(directory)
    if args.html:
        check_file(args.html)
    base = base_options(args, directory / "base.jsonl")
    on_row = None if args.json else lambda row: out.print(f"  {safe(row.variant)}: {row.verdict}", highlight=False)
    result = interrupts.run(run_matrix(base, variants, directory, args.media, on_row))
    path = directory / f"result{SUFFIX}"
    write_matrix(result, path)
    if args.html:
        Path(args.html).write_text(matrix_html(result), encoding="utf-8")
    if args.json:
        print(json.dumps({**result.document(), "result": str(path)}, indent=1))
    else:
        out.print(render_matrix(result))
        out.print(f"matrix written to {safe(str(path))} ({len(result.rows)} captures in {safe(str(directory))})")
    return EXIT_OK


def diff_matrix_files(args: argparse.Namespace) -> int:
    """`rtcprobe diff A.matrix.json B.matrix.json`: per variant, what the service does differently."""
    a, b = load_matrix(args.a), load_matrix(args.b)
    labels = args.labels.split(",", 1) if args.labels else [f"A ({a.started})", f"B ({b.started})"]
    changes = diff_matrices(a, b)
    if args.json:
        print(json.dumps({"a": args.a, "b": args.b, "changes": [
            {"variant": c.variant, "what": c.what, "a": c.a, "b": c.b, "summary": c.summary} for c in changes]}, indent=1))
    else:
        out = console()
        table = Table(title=f"matrix diff: {safe(labels[0])} → {safe(labels[-1])}", title_justify="left")
        for column in ("variant", "what", labels[0], labels[-1]):
            table.add_column(safe(column), overflow="fold")
        for c in changes:
            table.add_row(safe(c.variant), c.what, safe("none" if c.a in (None, "") else str(c.a)),
                          safe("none" if c.b in (None, "") else str(c.b)))
        out.print(table if changes else f"no change across {len(b.rows)} variant(s)")
    return EXIT_CHANGES if args.exit_code and changes else EXIT_OK


def add_target_arguments(p: argparse.ArgumentParser) -> None:
    """Target flags that `matrix` and `watch` share with `capture`."""
    p.add_argument("--protocol", choices=PROTOCOL_CHOICES, help="default: guessed from the URL")
    p.add_argument("--token", help="bearer token (never written anywhere)")
    p.add_argument("--token-env", metavar="NAME",
                   help="environment variable holding the token (default: OPENAI_API_KEY, for openai protocols only)")
    p.add_argument("--offer", default=DEFAULT_OFFER, metavar="PROFILE|PATH",
                   help=f"the offer each variant edits (default {DEFAULT_OFFER})")
    p.add_argument("--timeout", action="append", default=[], metavar="[PHASE=]SECONDS",
                   help="per-phase timeout: http, ice, dtls, media, datachannel (repeatable)")
    p.add_argument("--duration", type=positive_seconds, default=2.0, metavar="S",
                   help="seconds of media after connecting, where a session runs (default 2)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("matrix", help=summary("matrix"))
    p.add_argument("target", nargs="?", help="URL of the target (as for capture)")
    p.add_argument("-o", "--output", metavar="DIR",
                   help="directory for one capture per variant and result.matrix.json (default captures/matrix-HOST-TIME)")
    p.add_argument("--variants", metavar="FILE",
                   help='JSON {"variants": [...]}: added to the shipped ones (same name replaces), or with '
                        '"replace": true instead of them')
    p.add_argument("--variant", action="append", default=[], metavar="NAME", help="run only this variant (repeatable)")
    p.add_argument("--list", action="store_true", help="list the variants and exit")
    p.add_argument("--media", action="store_true", help="run each session to media and say whether media flows")
    p.add_argument("--json", action="store_true", help="print the result as one JSON document")
    p.add_argument("--html", metavar="FILE", help="also write the matrix as a self-contained HTML page")
    add_target_arguments(p)
    p.set_defaults(handler=cmd_matrix)

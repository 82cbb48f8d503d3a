"""`rtcprobe check URL`: is this WHIP/WHEP server conformant? One row per requirement, with the
section that states it and the status, header or packet count that decided it; exit 1 on a fail."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from urllib.parse import urlsplit

from . import EXIT_OK, UsageError, console
from .arg_types import positive_seconds
from .catalog import summary

EXIT_FAILED = 1
STYLE = {"pass": "green", "fail": "bold red", "warn": "yellow", "skip": "dim"}


def cmd_check(args: argparse.Namespace) -> int:
    import aiohttp
    from rich.markup import escape
    from rich.table import Table

    from ..conformance import FAIL, known_ids, run_checks

    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"check: expected an http:// or https:// URL, got {args.url!r}")
    only = [item.strip() for item in (args.only or "").split(",") if item.strip()]
    unknown = [item for item in only if item not in known_ids(args.protocol)]
    if unknown:
        raise UsageError(f"check --only: unknown requirement {', '.join(unknown)} for {args.protocol} "
                         f"(known: {', '.join(known_ids(args.protocol))})")
    try:
        results = asyncio.run(run_checks(args.url, args.protocol, args.token, only or None, args.timeout))
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        from ..redact import redact_text

        reason = str(exc) or f"no answer within {args.timeout:g} s"
        print(f"rtcprobe check: cannot reach {redact_text(args.url)}: {redact_text(reason)}", file=sys.stderr)
        return EXIT_FAILED
    if args.json:
        json.dump([dataclasses.asdict(r) for r in results], sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        table = Table(title=f"{args.protocol.upper()} conformance of {escape(args.url)}")
        for column in ("id", "section", "requirement", "result", "evidence"):
            table.add_column(column, overflow="fold")
        for r in results:
            table.add_row(r.id, r.section, escape(r.requirement),
                          f"[{STYLE[r.result]}]{r.result}[/]", escape(r.evidence))
        out = console()
        out.print(table)
        counts = {k: sum(r.result == k for r in results) for k in STYLE}
        out.print(", ".join(f"{n} {k}" for k, n in counts.items()))
    return EXIT_FAILED if any(r.result == FAIL for r in results) else EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help=summary("check"))
    p.add_argument("url", help="the WHIP or WHEP endpoint URL")
    p.add_argument("--protocol", choices=("whip", "whep"), default="whip", help="which protocol to check")
    p.add_argument("--token", help="bearer token (never written anywhere)")
    p.add_argument("--json", action="store_true", help="print the results as JSON (same fields as the table)")
    p.add_argument("--only", metavar="ID,...", help="run only these requirements (ids as in the table)")
    p.add_argument("--timeout", type=positive_seconds, default=10.0, help="seconds for each HTTP exchange")
    p.set_defaults(handler=cmd_check)

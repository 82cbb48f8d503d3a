"""The `rtcprobe` command. Each subcommand parses its arguments and calls one public function."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from rich.console import Console

from . import __version__
from .analyze.candidates import candidate_set
from .analyze.diff import diff
from .analyze.profile import profile
from .errors import InputError
from .inputs import load_negotiations
from .report import jsonout, terminal

EXIT_OK, EXIT_CHANGES, EXIT_BAD_INPUT = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or input: one line on stderr, exit status 2."""


def _console() -> Console:
    """A terminal's own width; 120 columns when piped, so tables do not fold in files and logs."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def _warn(messages: list[str]) -> None:
    """One line each on stderr, never wrapped, so scripts can grep them."""
    for message in messages:
        print(f"rtcprobe: warning: {message}", file=sys.stderr)


def cmd_analyze(args: argparse.Namespace) -> int:
    negotiations = load_negotiations(args.file)
    documents = []
    console = _console()
    for negotiation in negotiations:
        if args.side != "primary":
            chosen = negotiation.side(args.side)
            if chosen is None:
                raise UsageError(f"{negotiation.source}: has no {args.side}")
            negotiation = type(negotiation)(negotiation.source, **{args.side: chosen}, http=negotiation.http)
        result = profile(negotiation)
        cset = candidate_set(negotiation.primary)
        _warn(result.warnings)
        if args.json:
            documents.append({
                "source": negotiation.source, "described": result.described,
                "profile": result.rows, "dropped": result.dropped,
                "candidates": cset, "warnings": result.warnings,
                "unknown_attributes": [
                    {"where": where, "line": a.line, "name": a.name, "value": a.value}
                    for where, attrs in [("session", negotiation.primary.unknown_attributes)]
                    + [(m.label, m.unknown_attributes) for m in negotiation.primary.media]
                    for a in attrs
                ],
            })
            continue
        terminal.render_profile(result, console)
        terminal.render_candidates(cset, console)
        terminal.render_unknown_attributes(negotiation.primary, console)
    if args.json:
        print(jsonout.dumps(documents[0] if len(documents) == 1 else documents))
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    a = load_negotiations(args.a)[0]
    b = load_negotiations(args.b)[0]
    labels = tuple(args.labels.split(",", 1)) if args.labels else None
    if labels is not None and len(labels) != 2:
        raise UsageError("--labels takes two names separated by a comma, e.g. --labels November,New")
    try:
        result = diff(a, b, side=args.side, labels=labels)  # type: ignore[arg-type]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _warn(a.warnings + b.warnings)
    if args.json:
        print(jsonout.dumps(result))
    else:
        terminal.render_diff(result, _console(), show_volatile=not args.hide_volatile)
    return EXIT_CHANGES if args.exit_code and result.semantic_change else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtcprobe", description="WebRTC protocol diagnostics and SDP/ICE analysis.")
    parser.add_argument("--version", action="version", version=f"rtcprobe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("analyze", help="profile a session: SDP, JSON {type,sdp}, snapshot, capture or candidate lines")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--side", choices=("primary", "offer", "answer"), default="primary",
                   help="which description to profile (default: the answer when there is one)")
    p.set_defaults(handler=cmd_analyze)

    p = sub.add_parser("diff", help="what changed between two sessions")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--exit-code", action="store_true", help="exit 1 when there are semantic changes")
    p.add_argument("--side", choices=("primary", "offer", "answer"), default="primary")
    p.add_argument("--labels", help="column names for A and B, comma-separated")
    p.add_argument("--hide-volatile", action="store_true", help="do not list volatile differences")
    p.set_defaults(handler=cmd_diff)

    for register in EXTRA_COMMANDS:
        register(sub)
    return parser


#: Subcommands contributed by other packages (capture, serve, demo, report, import).
EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (InputError, UsageError) as exc:
        print(f"rtcprobe: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("rtcprobe: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`rtcprobe analyze` and `rtcprobe diff`: read sessions, print the study's tables."""

from __future__ import annotations

import argparse
import dataclasses

from ..analyze.candidates import candidate_set, negotiated_candidates
from ..analyze.diff import diff
from ..analyze.profile import profile
from ..inputs import load_negotiations
from ..negotiation import Negotiation
from ..report import jsonout, terminal
from . import EXIT_CHANGES, EXIT_OK, UsageError, console, warn
from .catalog import summary
from .input_args import add_max_size, reading


def _analysis_document(negotiation: Negotiation) -> dict:
    result = profile(negotiation)
    description = negotiation.primary
    return {
        "source": negotiation.source, "described": result.described, "profile": result.rows,
        "dropped": result.dropped, "added": result.added, "round": result.round, "rounds": result.rounds,
        "candidates": candidate_set(description),
        "candidates_by_side": [{"side": s.side, "origin": s.origin, "candidates": s.candidates}
                               for s in negotiated_candidates(negotiation)],
        "warnings": result.warnings,
        "unknown_attributes": [
            {"where": where, "line": a.line, "name": a.name, "value": a.value}
            for where, attrs in [("session", description.unknown_attributes)]
            + [(m.label, m.unknown_attributes) for m in description.media]
            for a in attrs
        ],
    }


@reading("file")
def cmd_analyze(args: argparse.Namespace) -> int:
    documents = []
    out = console()
    for negotiation in load_negotiations(args.file, pc=args.pc):
        negotiation = _at_round(negotiation, args.round)
        if args.side != "primary":
            chosen = negotiation.side(args.side)
            if chosen is None:
                raise UsageError(f"{negotiation.source}: has no {args.side}")
            negotiation = dataclasses.replace(negotiation, **{"offer": None, "answer": None, args.side: chosen})
        warn(negotiation.warnings)
        if args.json:
            documents.append(_analysis_document(negotiation))
            continue
        terminal.render_profile(profile(negotiation), out)
        sides = negotiated_candidates(negotiation)
        for side in sides:  # both sides' when there are two: a server that offered has its candidates there
            terminal.render_candidates(side.candidates, out, *([side.title] if len(sides) > 1 else []))
        terminal.render_unknown_attributes(negotiation.primary, out)
    if args.json:
        print(jsonout.dumps(documents[0] if len(documents) == 1 else documents))
    return EXIT_OK


@reading("a", "b")
def cmd_diff(args: argparse.Namespace) -> int:
    if all(str(p).endswith(".matrix.json") for p in (args.a, args.b)):  # two `rtcprobe matrix` results
        # imported here: `diff` of two sessions never loads the probe
        from .matrix import diff_matrix_files

        return diff_matrix_files(args)
    a, b = (_at_round(_one(load_negotiations(path, pc=args.pc), path), args.round) for path in (args.a, args.b))
    labels = tuple(args.labels.split(",", 1)) if args.labels else None
    if labels is not None and len(labels) != 2:
        raise UsageError("--labels takes two names separated by a comma, e.g. --labels November,New")
    try:
        result = diff(a, b, side=args.side, labels=labels)  # type: ignore[arg-type]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    warn(a.warnings + b.warnings)
    if args.json:
        print(jsonout.dumps(result))
    else:
        terminal.render_diff(result, console(), show_volatile=not args.hide_volatile)
    return EXIT_CHANGES if args.exit_code and result.semantic_change else EXIT_OK


def _at_round(negotiation: Negotiation, number: int | None) -> Negotiation:
    """`--round N`: the session as it stood after its N-th offer/answer (default: the last applied)."""
    if number is None:
        return negotiation
    try:
        return negotiation.at_round(number)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _one(found: list[Negotiation], path: str) -> Negotiation:
    """A diff compares two sessions: a dump or HAR holding several needs --pc."""
    if len(found) > 1:
        names = ", ".join(n.label or n.source for n in found)
        raise UsageError(f"{path}: holds {len(found)} sessions ({names}): choose one with --pc ID")
    return found[0]


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a round number (1, 2, ...), got {text!r}")
    return int(text)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help=summary("analyze"))
    p.add_argument("file", help="the file to read (- for standard input)")
    add_max_size(p)
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--side", choices=("primary", "offer", "answer"), default="primary",
                   help="which description to profile (default: the answer when there is one)")
    p.add_argument("--pc", metavar="ID", help="one PeerConnection of a browser dump (exchange number of a HAR)")
    p.add_argument("--round", type=_positive, metavar="N",
                   help="describe the N-th offer/answer round of a renegotiated session (default: the last applied)")
    p.set_defaults(handler=cmd_analyze)

    p = sub.add_parser("diff", help=summary("diff"))
    p.add_argument("a", metavar="A", help="the first session (any input analyze reads; - for standard input)")
    p.add_argument("b", metavar="B", help="the second session (as A)")
    add_max_size(p)
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--exit-code", action="store_true", help="exit 1 when there are semantic changes")
    p.add_argument("--side", choices=("primary", "offer", "answer"), default="primary",
                   help="which description to compare (primary: the answer when there is one)")
    p.add_argument("--labels", help="column names for A and B, comma-separated")
    p.add_argument("--pc", metavar="ID", help="the PeerConnection to compare when A or B is a browser dump")
    p.add_argument("--hide-volatile", action="store_true", help="do not list volatile differences")
    p.add_argument("--round", type=_positive, metavar="N",
                   help="compare both sessions as of their N-th offer/answer round (default: the last applied)")
    p.set_defaults(handler=cmd_diff)

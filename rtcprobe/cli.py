"""The `rtcprobe` command: one parser, subcommands from rtcprobe.commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .commands import (
    EXIT_BAD_INPUT,
    EXIT_INTERRUPTED,
    UsageError,
    importer,
    inspect,
    probe,
    report,
    serve,
)
from .errors import InputError
from .report.terminal import printable


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtcprobe", description="WebRTC protocol diagnostics and SDP/ICE analysis.")
    parser.add_argument("--version", action="version", version=f"rtcprobe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (inspect, probe, serve, importer, report):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (InputError, UsageError) as exc:
        print(printable(f"rtcprobe: error: {exc}"), file=sys.stderr)  # it may quote files and servers
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("rtcprobe: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

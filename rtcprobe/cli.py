"""The `rtcprobe` command: one parser, subcommands from rtcprobe.commands."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence

from . import __version__, interrupts, outputs
from .commands import (
    EXIT_BAD_INPUT,
    UsageError,
    assess,
    importer,
    inspect,
    probe,
    report,
    serve,
)
from .commands.secret_args import SecretSafeParser
from .errors import InputError

#: A reader that went away (`rtcprobe analyze x | head -1`): quiet, with the status a shell shows
#: for any command that SIGPIPE ends (cat, grep, git): 128 + SIGPIPE.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


def build_parser() -> argparse.ArgumentParser:
    parser = SecretSafeParser(prog="rtcprobe", description="WebRTC protocol diagnostics and SDP/ICE analysis.")
    parser.add_argument("--version", action="version", version=f"rtcprobe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (inspect, probe, serve, importer, report, assess):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = interrupts.install()
    try:
        status = int(args.handler(args) or 0)
        signum = interrupts.received()  # a command that stopped itself on SIGTERM/SIGHUP (serve)
        return 128 + signum if signum is not None else status
    except (InputError, UsageError, outputs.OutputError) as exc:
        _error(f"rtcprobe: error: {exc}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", None) or interrupts.received() or signal.SIGINT
        _error(f"rtcprobe: interrupted ({signal.Signals(signum).name})")
        return 128 + signum
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    finally:
        outputs.settle()  # a capture cut short is kept as it stands; an unfinished import removed
        interrupts.restore(previous)


def _error(line: str) -> None:
    """One line on stderr; nothing more when stderr is gone too (a closed terminal after SIGHUP).
    Made printable: it may quote a file name, a file's content or a server's words."""
    from .report.terminal import printable

    with contextlib.suppress(OSError):
        print(printable(line), file=sys.stderr)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    sys.exit(main())

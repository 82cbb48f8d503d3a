"""The `rtcprobe` command: one parser, subcommands from rtcprobe.commands.

Only the chosen command's module is imported (`commands.catalog` names it): `rtcprobe --version`,
`--help` and `rtcprobe serve` do not pay for aiortc, pandas and matplotlib.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from . import __version__, interrupts, outputs
from .commands import EXIT_BAD_INPUT, UsageError
from .commands.catalog import COMMANDS, modules
from .commands.secret_args import SecretSafeParser
from .errors import InputError

#: A reader that went away (`rtcprobe analyze x | head -1`): quiet, with the status a shell shows
#: for any command that SIGPIPE ends (cat, grep, git): 128 + SIGPIPE.
EXIT_BROKEN_PIPE = 128 + signal.SIGPIPE


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's default in its help, unless the help already says it or there is none to say
    (a flag, an option that is off unless given)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        shown = default_text(action)
        if shown is None or "default" in text or "%(default)" in text:
            return text
        return f"{text} (default: {shown})" if text else f"default: {shown}"


def default_text(action: argparse.Action) -> str | None:
    """The default of `action` as a user would type it; None when there is nothing to show."""
    default = action.default
    if default in (None, False, argparse.SUPPRESS) or default == [] or isinstance(
            action, (argparse._HelpAction, argparse._VersionAction, argparse._StoreTrueAction)):
        return None
    if isinstance(default, tuple) and len(default) == 2 and all(isinstance(v, int) for v in default):
        return f"{default[0]}x{default[1]}"  # a size: WxH
    if isinstance(default, float) and default.is_integer():
        return f"{default:g}"
    return str(default)


class Parser(SecretSafeParser):
    """Errors on one line, with where to look (`--help` shows the usage); secrets never repeated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        kwargs.setdefault("allow_abbrev", False)  # no prefix matching: `--offer` is not `--offer-format`
        super().__init__(*args, **kwargs)

    def print_usage(self, file: Any = None) -> None:
        """Not before an error (argparse's only caller): one line is easier to read and to grep."""

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        if status and message:
            message = f"{message.rstrip()} (see '{self.prog} --help')\n"
        return super().exit(status, message)


def build_parser(only: Iterable[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser, or, with `only` (command module names), those commands' real parsers and a
    one-line entry for each other command (enough for `rtcprobe --help` and its errors)."""
    wanted = set(modules() if only is None else only)
    parser = Parser(prog="rtcprobe", description="WebRTC protocol diagnostics and SDP/ICE analysis.")
    parser.add_argument("--version", action="version", version=f"rtcprobe {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                               help="rtcprobe COMMAND --help shows its options")
    for module in modules():
        if module in wanted:
            importlib.import_module(f".commands.{module}", __package__).register(sub)
        else:
            for name, (owner, summary) in COMMANDS.items():
                if owner == module:
                    sub.add_parser(name, help=summary, add_help=False)
    return parser


def _chosen(argv: Sequence[str]) -> list[str]:
    """The module of the command named in `argv` (the first word that is not an option), if any."""
    for word in argv:
        if not word.startswith("-"):
            return [COMMANDS[word][0]] if word in COMMANDS else []
    return []


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(only=_chosen(words)).parse_args(words)
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

"""Subcommands of `rtcprobe`: each module has `register(subparsers)` and small handlers."""

import errno
import sys
from datetime import UTC, datetime

from rich.console import Console


class UsageError(Exception):
    """Bad arguments or input: one line on stderr, exit status 2."""


EXIT_OK, EXIT_CHANGES, EXIT_BAD_INPUT, EXIT_SESSION_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 1, 130


class _Console(Console):
    """rich's Console, except that a reader gone away (`| head -1`) raises BrokenPipeError instead of
    rich's SystemExit(1), so that a command can finish its files and `rtcprobe` exit quietly (141)."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError(errno.EPIPE, "stdout: the reader went away")


def console() -> Console:
    """A terminal's own width; 120 columns when piped, so tables do not fold in files and logs."""
    return _Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def warn(messages: list[str]) -> None:
    """One line each on stderr, never wrapped, so scripts can grep them."""
    from ..report.terminal import printable

    for message in messages:  # they quote files and servers: nothing in them may drive the terminal
        print(f"rtcprobe: warning: {printable(message)}", file=sys.stderr)


def timestamped(prefix: str, suffix: str = ".jsonl") -> str:
    """`PREFIX-20261125T063935.123Z.jsonl`: milliseconds, so two runs in one second never collide."""
    now = datetime.now(UTC)
    return f"{prefix}-{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z{suffix}"

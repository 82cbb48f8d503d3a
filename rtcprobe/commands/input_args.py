"""Input-file arguments shared by `analyze`, `diff`, `import` and `report`: `--max-size`, and `-`
for standard input (read up to the size limit into a temporary file, named `<stdin>` in messages)."""

from __future__ import annotations

import argparse
import functools
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..errors import InputError, input_size_limit, max_input_bytes, parse_size, size_text
from ..limits import MAX_INPUT_BYTES

STDIN = "-"
STDIN_NAME = "<stdin>"
Handler = Callable[[argparse.Namespace], int]


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_max_size(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-size", type=_size, metavar="SIZE", default=MAX_INPUT_BYTES,
                        help=f"read input files of up to SIZE bytes, counted after gunzip (e.g. 2G; default "
                             f"{size_text(MAX_INPUT_BYTES).replace(' ', '')})")


def reading(*names: str) -> Callable[[Handler], Handler]:
    """Run a handler under its `--max-size`, with `-` in the arguments `names` read from stdin."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def run(args: argparse.Namespace) -> int:
            with input_size_limit(args.max_size), tempfile.TemporaryDirectory(prefix="rtcprobe-stdin-") as spool:
                _replace_stdin(args, names, Path(spool))
                try:
                    return handler(args)
                except InputError as exc:
                    exc.source = re.sub(re.escape(spool) + r"/stdin(?:\.jsonl|\.har)?", STDIN_NAME, exc.source)
                    raise

        return run

    return wrap


def _replace_stdin(args: argparse.Namespace, names: tuple[str, ...], spool: Path) -> None:
    """Every `-` among the arguments becomes the one spooled copy of stdin (read once)."""
    copy: str | None = None
    for name in names:
        value = getattr(args, name)
        values = value if isinstance(value, list) else [value]
        if STDIN not in values:
            continue
        if copy is None:
            copy = str(_spool_stdin(spool))
        replaced = [copy if v == STDIN else v for v in values]
        setattr(args, name, replaced if isinstance(value, list) else replaced[0])


def _spool_stdin(spool: Path) -> Path:
    """Standard input in a file, read up to the size limit; named by what it holds, as readers
    pick a capture by `.jsonl` and a HAR by `.har`."""
    if sys.stdin is None or sys.stdin.isatty():
        raise InputError("standard input is a terminal: pipe a file into it, or name the file", STDIN_NAME)
    limit, read = max_input_bytes(), 0
    path = spool / "stdin"
    with path.open("wb") as out:
        while chunk := sys.stdin.buffer.read1(1 << 20):
            read += len(chunk)
            if read > limit:
                raise InputError(f"larger than {size_text(limit)}, the input size limit (--max-size raises it)",
                                 STDIN_NAME)
            out.write(chunk)
    with path.open("rb") as f:
        start = f.read(4096)
    first = start.split(b"\n", 1)[0]
    suffix = ".jsonl" if b'"rtcprobe-capture/' in first else ".har" if (
        start.lstrip().startswith(b"{") and b'"log"' in start and b'"entries"' in start) else ""
    return path.rename(path.with_suffix(suffix)) if suffix else path

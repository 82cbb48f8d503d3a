"""`rtcprobe import`: browser records (webrtc-internals dumps, RTCStatsDump, HAR) -> capture files."""

from __future__ import annotations

import argparse
from pathlib import Path
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from ..outputs import check_directory
from ..report import jsonout
from ..report.terminal import printable, safe
from . import EXIT_OK, console, warn
from .catalog import summary
from .input_args import add_max_size, reading


class RichProgress:
    """The importers' progress stages as one rich bar on stderr; silent when stderr is not a terminal."""

    def __init__(self, enabled: bool) -> None:
        err = Console(stderr=True)
        self._bar = Progress(TextColumn("{task.description}", markup=False), BarColumn(), TaskProgressColumn(),
                             TimeElapsedColumn(), console=err, transient=True,
                             disable=not (enabled and err.is_terminal))
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._bar.stop()

    def stage(self, description: str, total: float | None = None) -> None:
        if self._task is None:
            self._task = self._bar.add_task(printable(description), total=total)
        else:
            self._bar.reset(self._task, total=total, description=printable(description))

    def advance(self, amount: float = 1) -> None:
        if self._task is not None:
            self._bar.advance(self._task, amount)


@reading("dump")
def cmd_import(args: argparse.Namespace) -> int:
    from ..importers import write_captures
    from ..importers.files import PROGRESS_BYTES

    source = Path(args.dump)
    check_directory(args.output)  # before the dump is read: where the captures go can take them
    big = source.is_file() and source.stat().st_size > PROGRESS_BYTES
    with RichProgress(enabled=big and not args.json) as progress:
        written = write_captures(source, args.output, pc=args.pc, progress=progress)
    warn(list(dict.fromkeys(p for w in written for p in w.problems)))
    if args.json:
        print(jsonout.dumps([{"id": w.id, "pc": w.key, "path": str(w.path), "events": w.events,
                              "problems": w.problems} for w in written]))
        return EXIT_OK
    table = Table(title=safe(f"Imported {source.name}"))
    for column in ("session", "descriptions", "candidates", "states", "stats samples", "capture"):
        table.add_column(column)
    for w in written:
        table.add_row(safe(w.key), str(w.events.get("sdp", 0)), str(w.events.get("candidate", 0)),
                      str(w.events.get("state", 0)), str(w.events.get("stats", 0)), safe(w.path))
    console().print(table)
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help=summary("import"))
    p.add_argument("dump", help="webrtc-internals dump (.txt/.json/.gz), rtcstats dump (.gz) or HAR (.har); - for standard input")
    p.add_argument("-o", "--output", default="captures", help="directory for the capture files (default captures/)")
    p.add_argument("--pc", metavar="ID", help="only this PeerConnection (dump) or exchange number (HAR)")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    add_max_size(p)
    p.set_defaults(handler=cmd_import)

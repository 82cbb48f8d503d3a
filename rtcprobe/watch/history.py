"""A history directory: `rtcprobe-history.json` (what it watches), `runs/` (one capture per run,
a matrix directory per run with --matrix) and `changes.jsonl` (one line per run: when, what it was
compared with, what changed). Append-only, like a capture: a crash leaves what was written readable.

A directory holding anything else is refused (one line): watch never writes into, or reports on,
files it did not make.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InputError, load_json, read_text_file

MARKER = "rtcprobe-history.json"
FORMAT = "rtcprobe_history"
VERSION = 1
RUNS = "runs"
CHANGES = "changes.jsonl"


@dataclass
class RunRecord:
    """One run: its capture (relative to the history), what it was compared with, what changed."""

    run: str  # the run's stamp, e.g. 20261201T235900.123Z
    at: str  # ISO 8601 UTC of the run's start
    capture: str
    reason: str  # the capture's end reason (completed, http, ice, ...)
    against: str | None  # "baseline PATH" or "previous RUN", None for the first run
    changes: list[str] = field(default_factory=list)
    matrix: str | None = None  # relative path of the run's matrix result
    expectations_failed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.expectations_failed)


def is_history(path: str | Path) -> bool:
    return (Path(path) / MARKER).is_file()


@dataclass
class History:
    directory: Path
    target: str

    @property
    def runs_dir(self) -> Path:
        return self.directory / RUNS

    def records(self) -> list[RunRecord]:
        """Every run recorded so far, oldest first; a malformed line is one line naming it."""
        path = self.directory / CHANGES
        if not path.exists():
            return []
        out = []
        for number, line in enumerate(read_text_file(path, "a watch history's changes.jsonl").splitlines(), 1):
            if not line.strip():
                continue
            data = load_json(line, str(path), number)
            try:
                out.append(RunRecord(**data))
            except TypeError:
                raise InputError("not a run record of rtcprobe watch", str(path), number) from None
        return out

    def append(self, record: RunRecord) -> None:
        with (self.directory / CHANGES).open("a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(record)) + "\n")


def new_stamp() -> tuple[str, str]:
    """(stamp for file names, ISO time) of now: milliseconds, so two runs never share a name."""
    now = datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}Z", now.isoformat(timespec="milliseconds")


def open_history(directory: str | Path, target: str | None = None) -> History:
    """The history in `directory`, created when it is new or empty. With `target`, it must be the
    one watched there (a history is one target's). Raises InputError with one line otherwise."""
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise InputError("is a file, expected a history directory of rtcprobe watch", str(path))
    marker = path / MARKER
    if marker.is_file():
        data: Any = load_json(read_text_file(marker, "a watch history marker"), str(marker))
        if not isinstance(data, dict) or data.get(FORMAT) != VERSION or not isinstance(data.get("target"), str):
            raise InputError(f'not a history marker: expected {{"{FORMAT}": {VERSION}, "target": ...}}', str(marker))
        if target is not None and data["target"] != target:
            raise InputError(f"is the history of {data['target']}, not of {target}: use another --history", str(path))
        return History(path, data["target"])
    if path.exists() and any(path.iterdir()):
        raise InputError(f"holds something else (no {MARKER}): --history needs a new or empty directory, "
                         "or one rtcprobe watch made", str(path))
    if target is None:
        raise InputError(f"is not a history of rtcprobe watch (no {MARKER})", str(path))
    (path / RUNS).mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({FORMAT: VERSION, "target": target}) + "\n", encoding="utf-8")
    return History(path, target)

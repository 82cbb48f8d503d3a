"""Load a capture file. A file cut mid-line by a crash loads with what it has and says so; a line
that does not fit the event vocabulary is dropped with a warning naming it (views never see it)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .. import limits
from ..errors import InputError, JSONLimitError, json_value, open_input
from . import events as ev
from .model import Capture
from .validate import check_event, clean_header

_SCHEMA = re.compile(r"rtcprobe-capture/(\d{1,9})(?:\.(\d{1,9}))?")
_MAJOR = int(ev.SCHEMA.rsplit("/", 1)[1])


def _check_schema(schema: Any, source: str, problems: list[str]) -> None:
    """Major version: this reader's or an error (its events may mean other things); a newer minor
    version only adds events and fields, which are kept and ignored: a warning."""
    found = _SCHEMA.fullmatch(schema) if isinstance(schema, str) else None
    if found is None:
        raise InputError(f"unknown capture schema {schema!r} (expected {ev.SCHEMA!r})", source, 1)
    if int(found.group(1)) != _MAJOR:
        newer = "a newer" if int(found.group(1)) > _MAJOR else "an older"
        raise InputError(f"capture schema {schema!r} is {newer} major version than this rtcprobe reads "
                         f"({ev.SCHEMA!r})", source, 1)
    if found.group(2) is not None and int(found.group(2)) > 0:
        problems.append(f"{source}:1: written by a newer rtcprobe (schema {schema}); read as {ev.SCHEMA}: "
                        "what it added is kept but not shown")


class _Dropped:
    """Lines dropped for not fitting: the first few listed by line and field, then a count."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source, self.problems, self.count = source, problems, 0

    def add(self, number: int, why: str) -> None:
        self.count += 1
        if self.count <= limits.CAPTURE_PROBLEMS_LISTED:
            self.problems.append(f"{self.source}:{number}: {why}; line skipped")

    def close(self) -> None:
        if self.count > limits.CAPTURE_PROBLEMS_LISTED:
            self.problems.append(f"{self.source}: {self.count} lines skipped in all (the first "
                                 f"{limits.CAPTURE_PROBLEMS_LISTED} are listed)")


def load(path: str | Path) -> Capture:
    """Read `captures/NAME.jsonl` into a Capture; raise InputError only if it is not a capture at all."""
    p = Path(path)
    source = str(p)
    with open_input(p) as f:
        lines = f.read().split(b"\n")
    last = max((i for i, raw in enumerate(lines) if raw.strip()), default=-1) + 1
    header: dict | None = None
    events: list[dict] = []
    problems: list[str] = []
    dropped = _Dropped(source, problems)
    unknown: dict[str, int] = {}
    cut = False
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            record = json_value(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, JSONLimitError) as exc:
            why = ("not UTF-8 text" if isinstance(exc, UnicodeDecodeError)
                   else exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc))
            if header is None:
                raise InputError(f"not a capture: {why}", source, number) from None
            if number == last and not isinstance(exc, JSONLimitError):
                cut = True
                problems.append(f"{source}:{number}: last line is incomplete (capture was cut while writing)")
                break
            dropped.add(number, f"unreadable line ({why})")
            continue
        if header is None:
            if not isinstance(record, dict) or record.get("event") != ev.HEADER:
                raise InputError("expected a capture header line ({\"event\": \"header\", ...})", source, number)
            _check_schema(record.get("schema"), source, problems)
            problems.extend(f"{source}:1: {why}" for why in clean_header(record))
            header = record
            continue
        problem = check_event(record)
        if problem is not None:
            dropped.add(number, problem)
            continue
        if record["event"] not in ev.VOCABULARY:
            unknown[record["event"]] = unknown.get(record["event"], 0) + 1
        events.append(record)
    if header is None:
        raise InputError("empty file: expected a capture header line", source, 1)
    dropped.close()
    if unknown:
        names = ", ".join(f"{name[:40]!r} ({n})" for name, n in sorted(unknown.items())[:10])
        problems.append(f"{source}: events of names this rtcprobe does not know, kept but not analyzed: {names}")
    if not any(e["event"] == ev.END for e in events):
        cut = True
    return Capture(source, header, events, cut, problems)

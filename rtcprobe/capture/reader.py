"""Load a capture file. A file cut mid-line by a crash loads with what it has and says so."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError, read_text_file
from . import events as ev
from .model import Capture


def load(path: str | Path) -> Capture:
    """Read `captures/NAME.jsonl` into a Capture; raise InputError only if it is not a capture at all."""
    p = Path(path)
    raw = read_text_file(p, "a capture in JSON Lines")
    lines = raw.split("\n")
    header: dict | None = None
    events: list[dict] = []
    problems: list[str] = []
    cut = False
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            last = all(not rest.strip() for rest in lines[number:])
            if last and header is not None:
                cut = True
                problems.append(f"{p}:{number}: last line is incomplete (capture was cut while writing)")
                break
            if header is None:
                raise InputError(f"not a capture: {exc.msg}", str(p), number) from None
            problems.append(f"{p}:{number}: unreadable line skipped ({exc.msg})")
            continue
        if header is None:
            if not isinstance(record, dict) or record.get("event") != ev.HEADER:
                raise InputError("expected a capture header line ({\"event\": \"header\", ...})", str(p), number)
            if not str(record.get("schema", "")).startswith("rtcprobe-capture/"):
                raise InputError(f"unknown capture schema {record.get('schema')!r}", str(p), number)
            header = record
            continue
        if isinstance(record, dict) and "event" in record:
            events.append(record)
        else:
            problems.append(f"{p}:{number}: not an event object, skipped")
    if header is None:
        raise InputError("empty file: expected a capture header line", str(p), 1)
    if not any(e.get("event") == ev.END for e in events):
        cut = True
    return Capture(str(p), header, events, cut, problems)

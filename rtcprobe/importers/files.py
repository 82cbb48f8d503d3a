"""Reading browser records: gzip-aware, in chunks for a progress bar, JSON that survives being
cut short, and the date formats dumps use."""

from __future__ import annotations

import codecs
import gzip
import json
import re
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from ..errors import (
    BoundedInput,
    InputError,
    JSONLimitError,
    json_value,
    open_input,
    shallow_enough,
    size_text,
)
from ..limits import MAX_JSON_DEPTH, MAX_LINE_BYTES

#: Files above this size show a progress bar while they are imported.
PROGRESS_BYTES = 4 * 1024 * 1024
READ_CHUNK = 8 * 1024 * 1024


class Progress(Protocol):
    """Where long imports report how far they got (a rich bar in the CLI, nothing in the library)."""

    def stage(self, description: str, total: float | None = None) -> None: ...

    def advance(self, amount: float = 1) -> None: ...


class NoProgress:
    def stage(self, description: str, total: float | None = None) -> None:
        pass

    def advance(self, amount: float = 1) -> None:
        pass


# -- reading -------------------------------------------------------------------------------


def _open_binary(path: Path) -> BoundedInput:
    """The one guard (regular files only, reads capped after gunzip), gunzipping gzip files."""
    return open_input(path, gunzip=True)


def head(path: Path, size: int = 4096) -> bytes:
    """The first bytes of a file, gunzipped when it is gzip (dumps are often saved as .gz)."""
    with _open_binary(path) as f:
        try:
            return f.read(size)
        except (OSError, EOFError, zlib.error):
            return b""


def read_text(path: Path, what: str, progress: Progress | None = None) -> str:
    """The whole file as text (gunzipped), in chunks so that a progress bar can follow."""
    progress = progress or NoProgress()
    parts: list[str] = []
    with _open_binary(path) as f:
        progress.stage(f"reading {path.name}", f.file_size)
        decoder = _utf8_decoder()
        before = 0
        try:
            while chunk := f.read1(READ_CHUNK):  # read1: a cut gzip stream loses nothing already inflated
                parts.append(decoder.decode(chunk))
                now = f.position()
                progress.advance(now - before)
                before = now
            parts.append(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            raise InputError(f"not a text file (expected {what})", str(path)) from None
        except (EOFError, zlib.error, gzip.BadGzipFile):
            pass  # a gzip stream cut short: keep what came out; the parser says where it ends
    text = "".join(parts)
    parts.clear()
    return text


def _utf8_decoder() -> Any:
    return codecs.getincrementaldecoder("utf-8-sig")()


def iter_lines(path: Path, problems: list[str]) -> Iterator[tuple[int, str, int]]:
    """(line number, text, bytes of the file read so far) of a JSON Lines file, gunzipped.

    A gzip stream cut short ends the lines with the last complete one and says so in `problems`;
    a line longer than limits.MAX_LINE_BYTES is skipped (and said), so memory stays bounded."""
    with _open_binary(path) as f:
        number, pending, held, skipping = 0, [], 0, False
        try:
            while chunk := f.read1(READ_CHUNK):  # read1: a cut gzip stream loses nothing already inflated
                *complete, rest = chunk.split(b"\n")
                position = f.position()
                for index, line in enumerate(complete):
                    number += 1
                    if index == 0 and (pending or skipping):
                        line, pending, held = b"".join([*pending, line]), [], 0
                    if skipping or len(line) > MAX_LINE_BYTES:
                        skipping = False
                        problems.append(f"{path}:{number}: line longer than {size_text(MAX_LINE_BYTES)}, skipped")
                        continue
                    yield number, line.decode("utf-8", errors="replace"), position
                if not skipping:
                    pending.append(rest)
                    held += len(rest)
                    if held > MAX_LINE_BYTES:  # drop it now; the rest of the line is skipped as it comes
                        pending, held, skipping = [], 0, True
        except (EOFError, zlib.error, gzip.BadGzipFile):
            problems.append(f"{path}:{number + 1}: the file ends early (truncated): kept the complete lines before it")
            return
        if skipping:
            problems.append(f"{path}:{number + 1}: line longer than {size_text(MAX_LINE_BYTES)}, skipped")
        elif held:
            yield number + 1, b"".join(pending).decode("utf-8", errors="replace"), f.position()


# -- a file cut short still gives what it holds ----------------------------------------------

_decoder = json.JSONDecoder()
_SPACE = re.compile(r"\s*")


def _skip(text: str, pos: int) -> int:
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]


def _salvage_value(text: str, pos: int) -> tuple[Any, int, bool]:
    """A JSON value at `pos`: whole when it parses; an object or array that is cut keeps its
    complete members (recursively). Returns (value or None, where parsing stopped, complete)."""
    try:
        value, end = _decoder.raw_decode(text, pos)
        return value, end, True
    except json.JSONDecodeError:
        pass
    opener = text[pos:pos + 1]
    if opener not in ("{", "["):
        return None, pos, False
    container: Any = {} if opener == "{" else []
    closer = "}" if opener == "{" else "]"
    pos += 1
    while True:
        pos = _skip(text, pos)
        if pos >= len(text):
            return container, pos, False
        if text[pos] == closer:
            return container, pos + 1, True
        if text[pos] == ",":
            pos += 1
            continue
        key = None
        if opener == "{":
            try:
                key, pos = _decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                return container, pos, False
            pos = _skip(text, pos)
            if text[pos:pos + 1] != ":":
                return container, pos, False
            pos = _skip(text, pos + 1)
        value, pos, complete = _salvage_value(text, pos)
        if value is not None or complete:
            if opener == "{":
                container[key] = value
            else:
                container.append(value)
        if not complete:
            return container, pos, False


def salvage(text: str) -> tuple[Any, int]:
    """What a JSON document cut short (or broken) still holds, and where it stops being JSON."""
    value, stopped, _ = _salvage_value(text, _skip(text, 0))
    return value, stopped


def parse_json(text: str, path: Path, what: str) -> tuple[Any, list[str]]:
    """Parse once; on failure keep the complete parts and say where the file stops being JSON.
    JSON that Python cannot take (too deep, integers too long) is an InputError naming the file."""
    try:
        return json_value(text), []
    except JSONLimitError as exc:
        raise InputError(f"not {what}: {exc}", str(path), _long_number_line(text)) from None
    except json.JSONDecodeError as exc:
        try:
            value, stopped = salvage(text)
            if isinstance(value, dict | list) and not shallow_enough(value):  # what was kept obeys the limits too
                raise RecursionError
        except RecursionError:
            raise InputError(f"not {what}: JSON nested deeper than {MAX_JSON_DEPTH} levels", str(path)) from None
        except ValueError:  # an integer too long inside what was kept
            raise InputError(f"not {what}: a JSON integer longer than Python's limit", str(path),
                             _long_number_line(text)) from None
        line = text.count("\n", 0, stopped) + 1
        cut = exc.msg.startswith("Unterminated string") or exc.pos >= len(text.rstrip()) - 1
        why = "the file ends early (truncated)" if cut else f"invalid JSON ({exc.msg})"
        if value is None:
            raise InputError(f"not {what}: {why}", str(path), line) from None
        return value, [f"{path}:{line}: {why}: kept the complete parts before it"]


def _long_number_line(text: str) -> int | None:
    """The line of the first integer too long for int(), if that is what failed."""
    found = re.search(rf"[-\d]\d{{{sys.get_int_max_str_digits()}}}", text)
    return None if found is None else text.count("\n", 0, found.start()) + 1


def load_json_object(path: Path, what: str, progress: Progress | None = None) -> tuple[dict[str, Any], list[str]]:
    """A file holding one JSON object (`what`: "a webrtc-internals dump"), read and parsed once; a
    file cut short keeps every member that is complete (said in the problems)."""
    progress = progress or NoProgress()
    text = read_text(path, f"{what} (JSON)", progress)
    progress.stage(f"parsing {path.name}")
    value, problems = parse_json(text, path, what)
    del text
    if not isinstance(value, dict):
        raise InputError(f"not {what} (expected a JSON object)", str(path))
    return value, problems


# -- time ----------------------------------------------------------------------------------

#: Old dumps write `updateLog[].time` with the browser's toLocaleString(); these are the common ones.
_LOCAL_FORMATS = ("%m/%d/%Y, %I:%M:%S %p", "%d/%m/%Y, %H:%M:%S", "%d.%m.%Y, %H:%M:%S", "%Y-%m-%d %H:%M:%S",
                  "%Y/%m/%d %H:%M:%S", "%m/%d/%Y, %H:%M:%S")


def epoch_ms(value: Any) -> float | None:
    """Milliseconds since the epoch from a number (ms), an ISO date or a toLocaleString() date.

    Local-time strings carry no zone; they are read as UTC (the caller says so in a warning).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
        cleaned = re.sub(r"\s+", " ", text.replace("\u202f", " "))
        for fmt in _LOCAL_FORMATS:
            try:
                parsed = datetime.strptime(cleaned, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp() * 1000.0


_ICE_URL = re.compile(r"\b(?:stuns?|turns?):[^\s\"',\]\}]+")


def ice_server_urls(configuration: Any) -> list[str]:
    """STUN/TURN URLs of an RTCConfiguration (dict or Chromium's text); credentials never kept."""
    text = configuration if isinstance(configuration, str) else json.dumps(configuration, default=str)
    return list(dict.fromkeys(_ICE_URL.findall(text)))

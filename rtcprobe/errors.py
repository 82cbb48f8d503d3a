"""Errors for bad input: one line naming the file (and line) and what was expected; and the one
guard every reader opens its input with (regular files only, bounded reads, JSON Python can take)."""

from __future__ import annotations

import errno
import gzip
import io
import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from . import limits


class InputError(ValueError):
    """Bad input anywhere (SDP, capture, dump, HAR): the CLI prints it as one line and exits 2."""

    def __init__(self, message: str, source: str = "<string>", line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"  # the CLI shows it through report.terminal.printable


# -- the input guard --------------------------------------------------------------------------

_max_input: ContextVar[int] = ContextVar("max_input_bytes", default=limits.MAX_INPUT_BYTES)


def max_input_bytes() -> int:
    """The input size limit in force (limits.MAX_INPUT_BYTES unless `input_size_limit` raised it)."""
    return _max_input.get()


@contextmanager
def input_size_limit(size: int) -> Iterator[None]:
    """Read inputs of up to `size` bytes (after gunzip) inside the block: the CLI's `--max-size`."""
    token = _max_input.set(size)
    try:
        yield
    finally:
        _max_input.reset(token)


def size_text(size: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:g} {unit}"
    return f"{size} bytes"


def parse_size(text: str) -> int:
    """`512M`, `2G`, `1.5GiB`, `100000`: a size in bytes (K, M, G are powers of 1024)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*", text, re.I)
    if found is None or float(found.group(1)) <= 0:
        raise ValueError(f"expected a size such as 512M or 2G, got {text!r}")
    scale = 1024 ** "kmgt".find(found.group(2).lower()) * 1024 if found.group(2) else 1
    return int(float(found.group(1)) * scale)


def os_error_message(exc: OSError) -> str:
    """What an OSError from opening or reading an input means, in a few words."""
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.ENOENT:
        return "no such file"
    if exc.errno == errno.ENOTDIR:
        return "no such file (a part of the path is not a directory)"
    if exc.errno == errno.EISDIR:
        return "is a directory, expected a file"
    if exc.errno == errno.EAGAIN:
        return "cannot read: it would block (not a regular file)"
    return f"cannot read: {exc.strerror or exc}"


_KINDS = ((stat.S_ISDIR, "is a directory, expected a file"),
          (stat.S_ISFIFO, "is a named pipe (FIFO), expected a regular file"),
          (stat.S_ISCHR, "is a character device (like /dev/zero), expected a regular file"),
          (stat.S_ISBLK, "is a block device, expected a regular file"),
          (stat.S_ISSOCK, "is a socket, expected a regular file"))


class BoundedInput(io.RawIOBase):
    """A binary input that refuses to yield more than the size limit (counted after gunzip)."""

    def __init__(self, stream: Any, source: str, limit: int, file_size: int,
                 compressed: io.BufferedReader | None = None) -> None:
        super().__init__()
        self._stream, self.source, self.limit, self._compressed = stream, source, limit, compressed
        self.file_size = file_size  # of the file itself (compressed): what `position()` runs up to
        self.count = 0

    def readable(self) -> bool:
        return True

    def position(self) -> int:
        """Bytes of the file itself consumed (the compressed offset for gzip): for progress bars."""
        return (self._compressed or self._stream).tell()

    def _counted(self, data: bytes | None) -> bytes:
        if data is None:  # a non-blocking read that found nothing: not a regular file after all
            raise InputError(os_error_message(OSError(errno.EAGAIN, "")), self.source)
        self.count += len(data)
        if self.count > self.limit:
            grew = " when decompressed" if self._compressed is not None else ""
            raise InputError(f"larger than {size_text(self.limit)}{grew}, the input size limit "
                             "(--max-size raises it)", self.source)
        return data

    def read1(self, size: int = -1) -> bytes:
        size = io.DEFAULT_BUFFER_SIZE * 128 if size is None or size < 0 else size
        try:
            return self._counted(self._stream.read1(min(size, self.limit - self.count + 1)))
        except OSError as exc:
            if isinstance(exc, gzip.BadGzipFile | EOFError):
                raise
            raise InputError(os_error_message(exc), self.source) from None

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            out = bytearray()
            while len(out) < size and (chunk := self.read1(size - len(out))):
                out += chunk
            return bytes(out)
        return self.readall()

    def readall(self) -> bytes:
        parts = []
        while chunk := self.read1():
            parts.append(chunk)
        return b"".join(parts)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
            if self._compressed is not None:
                self._compressed.close()
        super().close()


def open_input(path: str | Path, *, gunzip: bool = False) -> BoundedInput:
    """Open an input file for reading, or raise an InputError naming it in one line.

    Only regular files: a FIFO, a device (/dev/zero, /dev/urandom), a socket or a directory is
    refused without blocking (opened O_NONBLOCK, then checked with fstat). Reads stop with an
    InputError past the size limit (`max_input_bytes()`), so /proc files and decompression bombs
    cannot read forever. `gunzip`: a gzip file is read decompressed (the limit counts what comes out).
    """
    source = str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(os_error_message(exc), source) from None
    except ValueError:  # a NUL byte in the name
        raise InputError("not a valid file name", source) from None
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        for test, why in _KINDS:
            if test(mode):
                raise InputError(why, source)
        if not stat.S_ISREG(mode):
            raise InputError("not a regular file", source)
        raw = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    limit = max_input_bytes()
    try:
        magic = raw.peek(2)[:2] if gunzip else b""
    except OSError as exc:
        raw.close()
        raise InputError(os_error_message(exc), source) from None
    if magic == b"\x1f\x8b":
        return BoundedInput(gzip.GzipFile(fileobj=raw, mode="rb"), source, limit, info.st_size, compressed=raw)
    if info.st_size > limit:  # refused before reading it
        raw.close()
        raise InputError(f"larger than {size_text(limit)}, the input size limit (--max-size raises it)", source)
    return BoundedInput(raw, source, limit, info.st_size)


def check_input(path: str | Path) -> None:
    """Raise the InputError `open_input` would (missing, unreadable, not a regular file)."""
    open_input(path).close()


def read_text_file(path: str | Path, expected: str) -> str:
    """A file's text, or an InputError naming it: missing, not a regular file, unreadable, too big,
    or not text. `expected` completes "not a text file (expected ...)", e.g. "SDP, JSON or candidate lines".
    """
    with open_input(path) as f:
        data = f.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"not a text file (expected {expected})", str(path)) from None


# -- JSON that Python's json cannot take -------------------------------------------------------


class JSONLimitError(ValueError):
    """Valid JSON that Python cannot hold: nested too deep, or an integer too long for int()."""


def json_value(text: str | bytes) -> Any:
    """json.loads, with the inputs Python's json cannot take turned into a JSONLimitError (a
    ValueError, like the JSONDecodeError it raises for text that is not JSON): nesting deeper
    than limits.MAX_JSON_DEPTH (RecursionError otherwise) and integers past int()'s 4,300 digits."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise JSONLimitError(f"JSON nested deeper than {limits.MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # "Exceeds the limit (4300 digits) for integer string conversion"
        if "integer string conversion" not in str(exc):
            raise
        digits = sys.get_int_max_str_digits()
        raise JSONLimitError(f"JSON integer longer than {digits:,} digits (Python's limit)") from None
    if isinstance(value, dict | list) and not shallow_enough(value):
        raise JSONLimitError(f"JSON nested deeper than {limits.MAX_JSON_DEPTH} levels")
    return value


def shallow_enough(value: dict | list, limit: int = limits.MAX_JSON_DEPTH) -> bool:
    """Whether `value` nests at most `limit` levels (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                if depth >= limit:
                    return False
                stack.append((child, depth + 1))
    return True


def load_json(text: str | bytes, source: str, line: int | None = None) -> Any:
    """JSON text of an input, or an InputError naming `source` (and the line): invalid JSON, or
    JSON that Python cannot take. `line` is where `text` starts in the file."""
    try:
        return json_value(text)
    except json.JSONDecodeError as exc:
        at = exc.lineno + (line - 1 if line is not None else 0)
        raise InputError(f"invalid JSON: {exc.msg} (column {exc.colno})", source, at) from None
    except JSONLimitError as exc:
        raise InputError(str(exc), source, line) from None

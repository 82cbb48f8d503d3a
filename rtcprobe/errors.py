"""Errors for bad input: one line naming the file (and line) and what was expected."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input anywhere (SDP, capture, dump, HAR): the CLI prints it as one line and exits 2."""

    def __init__(self, message: str, source: str = "<string>", line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"


def read_text_file(path: str | Path, expected: str) -> str:
    """A file's text, or an InputError naming it: missing, a directory, unreadable, or not text.

    `expected` completes "not a text file (expected ...)", e.g. "SDP, JSON or candidate lines".
    """
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", str(p)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", str(p)) from None
    except UnicodeDecodeError:
        raise InputError(f"not a text file (expected {expected})", str(p)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", str(p)) from None

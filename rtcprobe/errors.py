"""Errors for bad input: one line naming the file (and line) and what was expected."""

from __future__ import annotations


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

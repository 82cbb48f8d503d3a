"""Parse errors that name the file and line, so bad input never ends in a traceback."""

from __future__ import annotations


class SdpError(ValueError):
    """Bad input: one line that says where and what was expected."""

    def __init__(self, message: str, source: str = "<string>", line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.line = line

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        return f"{where}: {self.message}"


class CandidateError(ValueError):
    """A candidate line that does not follow RFC 8839 §5.1 grammar."""

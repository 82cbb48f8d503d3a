"""Parse errors that name the file and line, so bad input never ends in a traceback."""

from __future__ import annotations

from ..errors import InputError


class SdpError(InputError):
    """Bad SDP (or a file that should have held SDP)."""


class CandidateError(ValueError):
    """A candidate line that does not follow RFC 8839 §5.1 grammar."""

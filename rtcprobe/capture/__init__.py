"""Capture files: the append-only record of one session."""

from .model import Capture
from .reader import load
from .writer import CaptureWriter, truncate_message

__all__ = ["Capture", "CaptureWriter", "load", "truncate_message"]

"""Capture files: the append-only record of one session."""

from .collection import CaptureSet, load_many
from .model import Capture
from .reader import load
from .writer import CaptureWriter, capture_header, truncate_message

__all__ = ["Capture", "CaptureSet", "CaptureWriter", "capture_header", "load", "load_many", "truncate_message"]

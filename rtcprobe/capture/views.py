"""Views of captures that upper layers make: pandas frames (`rtcprobe.frames`) and the notebook's
HTML (`rtcprobe.report.html`). `Capture.stats()` or a notebook cell showing a capture reach them
through `view`, which imports the layer that makes them on first use and by name: the capture layer
imports neither pandas nor the report, and layers only point down (tests/test_structure.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

#: kind of view -> the module (an upper layer) whose functions of that name make it
PROVIDERS = {"frame": "rtcprobe.frames", "html": "rtcprobe.report.html"}


def view(kind: str, name: str) -> Callable[..., Any]:
    """The function `name` of the layer that makes views of `kind` ("frame" or "html")."""
    return getattr(importlib.import_module(PROVIDERS[kind]), name)

"""rtcprobe: WebRTC protocol diagnostics and SDP/ICE analysis.

    import rtcprobe
    cap = rtcprobe.load("captures/demo.jsonl")
    rtcprobe.profile(cap.negotiation)

The names below are imported on first use (PEP 562), so that `rtcprobe --version`, `--help` and
`python -m rtcprobe` do not pay for aiortc, pandas and matplotlib (about a second).
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: public name -> module that defines it
_LAZY = {
    "candidate_set": ".analyze.candidates", "diff": ".analyze.diff", "profile": ".analyze.profile",
    "Capture": ".capture", "CaptureSet": ".capture", "load": ".capture", "load_many": ".capture",
    "InputError": ".errors", "load_negotiation": ".inputs", "load_negotiations": ".inputs",
    "Negotiation": ".negotiation", "SessionDescription": ".sdp", "load_description": ".sdp",
    "parse_description": ".sdp",
}

__all__ = ["__version__", *sorted(_LAZY)]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rtcprobe' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # once: later lookups do not come here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


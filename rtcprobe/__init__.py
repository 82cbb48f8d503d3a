"""rtcprobe: WebRTC protocol diagnostics and SDP/ICE analysis.

    import rtcprobe
    cap = rtcprobe.load("captures/demo.jsonl")
    rtcprobe.profile(cap.negotiation)
"""

__version__ = "0.1.0"

from .analyze.candidates import candidate_set  # noqa: E402
from .analyze.diff import diff  # noqa: E402
from .analyze.profile import profile  # noqa: E402
from .capture import Capture, CaptureSet, load, load_many  # noqa: E402
from .errors import InputError  # noqa: E402
from .inputs import load_negotiation, load_negotiations  # noqa: E402
from .negotiation import Negotiation  # noqa: E402
from .sdp import SessionDescription, load_description, parse_description  # noqa: E402

__all__ = [
    "Capture", "CaptureSet", "InputError", "Negotiation", "SessionDescription", "__version__", "candidate_set", "diff",
    "load", "load_description", "load_many", "load_negotiation", "load_negotiations", "parse_description", "profile",
]

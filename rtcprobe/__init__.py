"""rtcprobe: WebRTC protocol diagnostics and SDP/ICE analysis."""

__version__ = "0.1.0"

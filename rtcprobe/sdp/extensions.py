"""The one table of well-known RTP header extension URIs and their short names."""

from __future__ import annotations

#: URI -> short name. Short names are what every view prints.
WELL_KNOWN_EXTENSIONS: dict[str, str] = {
    "urn:ietf:params:rtp-hdrext:sdes:mid": "mid",
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id": "rid",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id": "repaired-rid",
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01": "transport-cc",
    "http://www.webrtc.org/experiments/rtp-hdrext/transport-wide-cc-02": "transport-cc-02",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time": "abs-send-time",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level": "audio-level",
    "urn:ietf:params:rtp-hdrext:csrc-audio-level": "csrc-audio-level",
    "urn:ietf:params:rtp-hdrext:toffset": "toffset",
    "urn:3gpp:video-orientation": "video-orientation",
    "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay": "playout-delay",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time": "abs-capture-time",
    "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension": (
        "dependency-descriptor"
    ),
    "http://www.webrtc.org/experiments/rtp-hdrext/video-content-type": "video-content-type",
    "http://www.webrtc.org/experiments/rtp-hdrext/video-timing": "video-timing",
    "http://www.webrtc.org/experiments/rtp-hdrext/color-space": "color-space",
    "http://www.webrtc.org/experiments/rtp-hdrext/video-layers-allocation00": (
        "video-layers-allocation"
    ),
    "http://www.webrtc.org/experiments/rtp-hdrext/video-frame-tracking-id": (
        "video-frame-tracking-id"
    ),
    "http://www.webrtc.org/experiments/rtp-hdrext/corruption-detection": "corruption-detection",
    "urn:ietf:params:rtp-hdrext:framemarking": "framemarking",
    "urn:ietf:params:rtp-hdrext:encrypt": "encrypt",
    "urn:ietf:params:rtp-hdrext:ntp-64": "ntp-64",
    "urn:ietf:params:rtp-hdrext:ntp-56": "ntp-56",
}

#: Short name -> how a sentence names it (the study's wording).
DISPLAY_NAMES: dict[str, str] = {
    "transport-cc": "transport-wide-cc",
    "transport-cc-02": "transport-wide-cc-02",
    "rid": "RID",
    "repaired-rid": "repaired RID",
    "mid": "MID",
    "audio-level": "audio level",
    "csrc-audio-level": "CSRC audio level",
}


def extension_name(uri: str) -> str:
    """Short name for a URI; unknown URIs keep their full text."""
    return WELL_KNOWN_EXTENSIONS.get(uri.strip(), uri.strip())


def display_name(short_name: str) -> str:
    return DISPLAY_NAMES.get(short_name, short_name)

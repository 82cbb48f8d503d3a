"""The probe's side of a playback session (WHEP): it sends nothing and offers to receive audio
and video, so the offer's m-lines are recvonly and the server's answer must be sendonly."""

from __future__ import annotations

from aiortc import RTCPeerConnection

RECEIVE_ONLY = "recvonly"


def receives_only(protocol: str) -> bool:
    """Whether a capture of `protocol` is a playback: no media sent, audio and video received."""
    return protocol == "whep"


def add_playback(pc: RTCPeerConnection) -> None:
    """One recvonly audio and one recvonly video transceiver, in that order."""
    for kind in ("audio", "video"):
        pc.addTransceiver(kind, direction=RECEIVE_ONLY)

"""`Capture.rtcp()`: one row per RTCP packet, both directions, as the taps classified it."""

from __future__ import annotations

import pandas as pd

from ..analyze.wire import ssrc_sections
from ..capture import Capture
from ..capture import events as ev
from ._schema import FLOAT, INT, OBJECT, TEXT, TIME, Column, Schema, build

COLUMNS: Schema = {
    "t": Column(FLOAT, "seconds since the capture started"),
    "wall_clock": Column(TIME, "wall-clock instant of t (UTC)"),
    "direction": Column(TEXT, "sent or received"),
    "packet_type": Column(TEXT, "SR, RR, SDES, BYE, NACK, TWCC, PLI, FIR, REMB, ... (events.RTCP_TYPES)"),
    "pt": Column(INT, "RTCP packet type number (200 SR ... 206 PSFB)"),
    "fmt": Column(INT, "feedback message type / report count field"),
    "sender_ssrc": Column(INT, "SSRC of the packet's sender"),
    "media_ssrc": Column(INT, "SSRC the feedback is about (feedback packets)"),
    "kind": Column(TEXT, "audio or video: the kind of media_ssrc (else sender_ssrc) when known"),
    "lost_count": Column(INT, "sequence numbers a NACK asks for (0 for other packets)"),
    "lost": Column(OBJECT, "the NACKed sequence numbers (list)"),
    "size": Column(INT, "bytes"),
}


def rtcp(capture: Capture) -> pd.DataFrame:
    kinds = {ssrc: kind for ssrc, (_, kind) in ssrc_sections(capture).items()}
    rows = []
    for e in capture.of(ev.RTCP):
        ssrc = e.get("media_ssrc") if e.get("media_ssrc") in kinds else e.get("sender_ssrc")
        lost = list(e.get("lost") or [])
        rows.append({"t": e.get("t"), "direction": e.get("direction"), "packet_type": e.get("packet_type"),
                     "pt": e.get("pt"), "fmt": e.get("fmt"), "sender_ssrc": e.get("sender_ssrc"),
                     "media_ssrc": e.get("media_ssrc"), "kind": kinds.get(ssrc), "lost_count": len(lost),
                     "lost": lost, "size": e.get("size")})
    return build(capture, rows, COLUMNS)

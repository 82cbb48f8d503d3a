"""`Capture.candidates()`: local and remote ICE candidates, priority decoded, selected pair flagged."""

from __future__ import annotations

import pandas as pd

from ..analyze.connection import session_candidates
from ..capture import Capture
from ._schema import BOOL, FLOAT, INT, TEXT, TIME, Column, Schema, build

COLUMNS: Schema = {
    "t": Column(FLOAT, "seconds since the capture started when the candidate was first recorded"),
    "wall_clock": Column(TIME, "wall-clock instant of t (UTC)"),
    "side": Column(TEXT, "local (ours) or remote (the service's)"),
    "mids": Column(TEXT, "m-line mids the candidate appeared under, comma-separated (BUNDLE repeats)"),
    "foundation": Column(TEXT, "ICE foundation"),
    "component": Column(INT, "1 = RTP, 2 = RTCP"),
    "transport": Column(TEXT, "udp or tcp"),
    "tcptype": Column(TEXT, "active, passive or so (TCP only)"),
    "type": Column(TEXT, "host, srflx, prflx or relay"),
    "address": Column(TEXT, "IP address, mDNS name or hostname"),
    "port": Column(INT, "port"),
    "address_family": Column(TEXT, "IPv4, IPv6, mDNS or hostname"),
    "priority": Column(INT, "32-bit ICE priority as written"),
    "type_preference": Column(INT, "priority >> 24 (RFC 8445: host 126, prflx 110, srflx 100, relay 0)"),
    "local_preference": Column(INT, "(priority >> 8) & 0xFFFF"),
    "priority_component": Column(INT, "component encoded in the priority (256 - priority & 0xFF)"),
    "priority_note": Column(TEXT, "where the priority departs from the RFC's recommendation; empty if not"),
    "anomalies": Column(TEXT, "what departs from the candidate grammar (RFC 8839, RFC 6544), '; '-joined"),
    "raddr": Column(TEXT, "related address (srflx, relay)"),
    "rport": Column(INT, "related port"),
    "ufrag": Column(TEXT, "ufrag extension attribute"),
    "selected": Column(BOOL, "true for the two candidates of the selected pair"),
    "source": Column(TEXT, "signaled (SDP or trickle) or checks (learned during ICE checks, e.g. prflx)"),
}


def candidates(capture: Capture) -> pd.DataFrame:
    rows = []
    for c in session_candidates(capture):
        r = c.row
        rows.append({
            "t": c.t, "side": c.side, "mids": ",".join(c.mids), "foundation": r.foundation,
            "component": r.component, "transport": r.transport.lower(), "tcptype": r.tcptype, "type": r.type,
            "address": r.address, "port": r.port, "address_family": r.address_family, "priority": r.priority,
            "type_preference": r.type_preference, "local_preference": r.local_preference,
            "priority_component": r.priority_component, "priority_note": r.priority_note,
            "anomalies": "; ".join(r.anomalies), "raddr": r.raddr,
            "rport": r.rport, "ufrag": r.ufrag, "selected": c.selected, "source": c.source,
        })
    return build(capture, rows, COLUMNS)

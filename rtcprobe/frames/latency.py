"""`Capture.latency()`: the connect-time breakdown, phase by phase, and the response latencies."""

from __future__ import annotations

import pandas as pd

from ..analyze.latency import connect_breakdown, response_timings
from ..capture import Capture
from ._schema import BOOL, FLOAT, INT, TEXT, TIME, Column, Schema, build

COLUMNS: Schema = {
    "t": Column(FLOAT, "start of the interval: seconds since the capture started (responses: when the request left)"),
    "wall_clock": Column(TIME, "wall-clock instant of t (UTC)"),
    "kind": Column(TEXT, "connect (a set-up phase), total (start to media; no duration when failed) or response"),
    "name": Column(TEXT, "http, ice, dtls, first media, data channel; to media; `request → answer` types"),
    "index": Column(INT, "0, 1, 2 ... within the kind"),
    "end": Column(FLOAT, "end of the interval; missing when the phase never ended"),
    "duration": Column(FLOAT, "seconds; missing when the phase never ended"),
    "failed": Column(BOOL, "true for the phase the session failed in"),
}


def latency(capture: Capture) -> pd.DataFrame:
    breakdown = connect_breakdown(capture)
    rows: list[dict] = [
        {"t": p.start, "kind": "connect", "name": p.name, "index": i, "end": p.end, "duration": p.duration,
         "failed": p.name == breakdown.failed_phase}
        for i, p in enumerate(breakdown.phases)
    ]
    failed = breakdown.failed_phase is not None
    total = None if failed else breakdown.total  # a failed session never got to media
    rows.append({"t": 0.0, "kind": "total", "name": "to media", "index": 0, "end": total, "duration": total,
                 "failed": failed})
    rows += [{"t": r.sent_at, "kind": "response", "name": f"{r.request} → {r.response}", "index": i,
              "end": r.sent_at + r.latency, "duration": r.latency, "failed": False}
             for i, r in enumerate(response_timings(capture))]
    return build(capture, rows, COLUMNS)

"""`Capture.timeline()`: one row per event, with a one-line summary and every field kept."""

from __future__ import annotations

import pandas as pd

from ..analyze.timeline import timeline_entries
from ..capture import Capture
from ._schema import FLOAT, OBJECT, TEXT, TIME, Column, Schema, build

COLUMNS: Schema = {
    "t": Column(FLOAT, "seconds since the capture started"),
    "wall_clock": Column(TIME, "wall-clock instant of t (UTC)"),
    "event": Column(TEXT, "event name (rtcprobe.capture.events)"),
    "direction": Column(TEXT, "local/remote (sdp, candidate) or sent/received (rtp, rtcp, messages)"),
    "summary": Column(TEXT, "what happened, in one line"),
    "fields": Column(OBJECT, "the event's own fields (dict), for anything the summary leaves out"),
}


def timeline(capture: Capture) -> pd.DataFrame:
    rows = [{"t": e.t, "event": e.event, "direction": e.direction, "summary": e.summary, "fields": e.fields}
            for e in timeline_entries(capture)]
    return build(capture, rows, COLUMNS)

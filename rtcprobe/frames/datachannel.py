"""`Capture.datachannel()`: data-channel messages both ways, sizes, and the JSON `type` field."""

from __future__ import annotations

import pandas as pd

from ..analyze.messages import datachannel_messages
from ..capture import Capture
from ._schema import BOOL, FLOAT, INT, TEXT, TIME, Column, Schema, build

COLUMNS: Schema = {
    "t": Column(FLOAT, "seconds since the capture started"),
    "wall_clock": Column(TIME, "wall-clock instant of t (UTC)"),
    "label": Column(TEXT, "channel label (oai-events for the realtime API)"),
    "direction": Column(TEXT, "sent or received"),
    "size": Column(INT, "message size in bytes (before any truncation in the capture)"),
    "binary": Column(BOOL, "binary message (data holds hex)"),
    "truncated": Column(BOOL, "data was cut at the capture's size limit"),
    "type": Column(TEXT, "the JSON message's `type` field (e.g. session.created); missing otherwise"),
    "data": Column(TEXT, "the payload as recorded (text, or hex for binary)"),
}


def datachannel(capture: Capture) -> pd.DataFrame:
    rows = [{"t": m.t, "label": m.label, "direction": m.direction, "size": m.size, "binary": m.binary,
             "truncated": m.truncated, "type": m.type, "data": m.data} for m in datachannel_messages(capture)]
    return build(capture, rows, COLUMNS)

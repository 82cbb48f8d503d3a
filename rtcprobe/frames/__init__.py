"""pandas DataFrames of captures: one tidy frame per question (pandas is imported only here).

Every frame starts with ``t`` (seconds since the capture started) and ``wall_clock`` (UTC), and has
the documented columns and dtypes of its ``COLUMNS`` schema even when the capture holds no rows
(a failed session's stats frame is empty, not shapeless). Use them through `Capture` methods::

    cap = rtcprobe.load("captures/demo.jsonl")
    cap.candidates(); cap.timeline(); cap.stats(); cap.stats_wide("outbound-rtp")
    cap.rtcp(); cap.datachannel(); cap.latency(); cap.turns()

and across many sessions through ``rtcprobe.load_many("captures/*.jsonl")``, whose frames are the
same with a leading ``capture`` column.
"""

import pandas as pd

from ._schema import Column, Schema
from .candidates import COLUMNS as CANDIDATE_COLUMNS
from .candidates import candidates
from .collection import concat
from .datachannel import COLUMNS as DATACHANNEL_COLUMNS
from .datachannel import datachannel
from .latency import COLUMNS as LATENCY_COLUMNS
from .latency import latency
from .rtcp import COLUMNS as RTCP_COLUMNS
from .rtcp import rtcp
from .stats import COLUMNS as STATS_COLUMNS
from .stats import IDENTITY as STATS_IDENTITY
from .stats import WIDE_LEADING as STATS_WIDE_LEADING
from .stats import stats, stats_wide
from .timeline import COLUMNS as TIMELINE_COLUMNS
from .timeline import timeline
from .turns import COLUMNS as TURN_COLUMNS
from .turns import turns

#: Frame name -> documented columns, for help and for tests.
SCHEMAS: dict[str, Schema] = {
    "candidates": CANDIDATE_COLUMNS, "timeline": TIMELINE_COLUMNS, "stats": STATS_COLUMNS,
    "rtcp": RTCP_COLUMNS, "datachannel": DATACHANNEL_COLUMNS, "latency": LATENCY_COLUMNS,
    "turns": TURN_COLUMNS,
}



def columns(name: str) -> pd.DataFrame:
    """The documented columns of one frame (``candidates``, ``rtcp`` ...): name, dtype, meaning."""
    schema = {**STATS_WIDE_LEADING} if name == "stats_wide" else SCHEMAS[name]
    return pd.DataFrame([(column, spec.dtype, spec.doc) for column, spec in schema.items()],
                        columns=["column", "dtype", "meaning"]).set_index("column")


__all__ = [
    "CANDIDATE_COLUMNS", "DATACHANNEL_COLUMNS", "LATENCY_COLUMNS", "RTCP_COLUMNS", "SCHEMAS", "STATS_COLUMNS",
    "STATS_IDENTITY", "STATS_WIDE_LEADING", "TIMELINE_COLUMNS", "Column", "Schema", "candidates", "columns", "concat", "datachannel",
    "latency", "rtcp", "stats", "stats_wide", "timeline", "TURN_COLUMNS", "turns",
]

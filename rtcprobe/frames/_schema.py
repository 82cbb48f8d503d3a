"""Typed, documented columns: every frame is built through `build`, so its dtypes never depend on
whether a capture happened to hold a value (an empty frame has the same columns as a full one)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..capture import Capture

#: dtype names used by the schemas; "string" is pandas' StringDtype (missing values are pd.NA).
TEXT, FLOAT, INT, BOOL, TIME, OBJECT = "string", "float64", "Int64", "bool", "datetime64[ns, UTC]", "object"


@dataclass(frozen=True)
class Column:
    dtype: str
    doc: str


Schema = dict[str, Column]

#: Every frame starts with these two: seconds since the capture started, and the wall-clock instant.
TIME_COLUMNS: Schema = {
    "t": Column(FLOAT, "seconds since the capture started (monotonic capture clock)"),
    "wall_clock": Column(TIME, "wall-clock instant of t (UTC), from the header's started_at_epoch"),
}


def wall_clock(capture: Capture, t: pd.Series) -> pd.Series:
    epoch = capture.header.get("started_at_epoch")
    if not isinstance(epoch, int | float):
        return pd.Series(pd.NaT, index=t.index, dtype=TIME)
    return pd.to_datetime(float(epoch) + t.astype(FLOAT), unit="s", utc=True).astype(TIME)


def build(capture: Capture, rows: list[dict[str, Any]], schema: Schema) -> pd.DataFrame:
    """A frame with exactly the schema's columns, in order, with the schema's dtypes."""
    data: dict[str, Any] = {}
    for name, column in schema.items():
        if name == "wall_clock":
            continue
        values = [row.get(name) for row in rows]
        if column.dtype == OBJECT:
            data[name] = pd.Series(values, dtype=OBJECT)
        elif column.dtype == BOOL:
            data[name] = pd.Series([bool(v) for v in values], dtype=BOOL)
        elif column.dtype == FLOAT:
            data[name] = pd.Series([float("nan") if v is None else float(v) for v in values], dtype=FLOAT)
        else:
            data[name] = pd.Series(values, dtype=OBJECT).astype(column.dtype)
    frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
    if "wall_clock" in schema:
        frame["wall_clock"] = wall_clock(capture, frame["t"])
    return frame[list(schema)]


def empty(schema: Schema) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=column.dtype) for name, column in schema.items()})

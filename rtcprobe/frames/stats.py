"""`Capture.stats()` (long: one row per sample, report and metric) and `stats_wide()` (one row per
sample and report, one column per field), from the W3C stats the probe sampled."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

import pandas as pd

from ..capture import Capture
from ..importers.legacy_stats import W3C_TYPES
from ._schema import FLOAT, INT, OBJECT, TEXT, TIME, Column, Schema, build

COLUMNS: Schema = {
    "t": Column(FLOAT, "the report's timestamp on the capture clock (seconds since the capture started)"),
    "wall_clock": Column(TIME, "wall-clock instant of t (UTC)"),
    "sample": Column(INT, "0, 1, 2 ...: which stats sample the row comes from"),
    "type": Column(TEXT, "W3C stats type: outbound-rtp, inbound-rtp, remote-inbound-rtp, transport ..."),
    "id": Column(TEXT, "the stats object's id (stable across samples)"),
    "ssrc": Column(INT, "SSRC for RTP stats; missing otherwise"),
    "kind": Column(TEXT, "audio or video for RTP stats; missing otherwise"),
    "metric": Column(TEXT, "W3C field name: packetsSent, roundTripTime, jitter ..."),
    "value": Column(FLOAT, "numeric value (booleans as 0/1); text fields are in stats_wide()"),
}

#: Fields that identify a report rather than measure something; they become columns, not metrics.
IDENTITY = ("id", "type", "timestamp", "ssrc", "kind", "mid", "transportId", "codecId", "remoteId", "localId")

#: Columns of stats_wide() before the report's own fields.
WIDE_LEADING: Schema = {
    "t": COLUMNS["t"], "wall_clock": COLUMNS["wall_clock"], "sample": COLUMNS["sample"],
    "type": COLUMNS["type"], "id": COLUMNS["id"], "ssrc": COLUMNS["ssrc"], "kind": COLUMNS["kind"],
    "mid": Column(TEXT, "media section of RTP stats"),
}


def _reports(capture: Capture) -> Iterator[tuple[int, float, dict[str, Any]]]:
    for index, sample in enumerate(capture.stats_samples):
        for report in sample.get("reports") or []:
            stamp = report.get("timestamp")
            yield index, float(stamp) if isinstance(stamp, int | float) else float(sample.get("t", 0.0)), report


def stats(capture: Capture) -> pd.DataFrame:
    rows = []
    for index, t, report in _reports(capture):
        ssrc = report.get("ssrc") if isinstance(report.get("ssrc"), int) else None
        for metric, value in report.items():
            if metric in IDENTITY or not isinstance(value, int | float):
                continue
            rows.append({"t": t, "sample": index, "type": report.get("type"), "id": report.get("id"),
                         "ssrc": ssrc, "kind": report.get("kind"), "metric": metric, "value": float(value)})
    return build(capture, rows, COLUMNS)


def stats_wide(capture: Capture, type: str | None = None) -> pd.DataFrame:  # noqa: A002 - the W3C name
    """One row per (sample, stats object), fields as columns; `type` keeps one W3C type, e.g. per-stream
    frames with `stats_wide("outbound-rtp")`. Fields absent from a report are missing (NaN/NA)."""
    if type is not None and type not in W3C_TYPES:
        _check_type(capture, type)
    rows: list[dict[str, Any]] = []
    fields: dict[str, None] = {}
    for index, t, report in _reports(capture):
        if type is not None and report.get("type") != type:
            continue
        row = {"t": t, "sample": index, "type": report.get("type"), "id": report.get("id"),
               "ssrc": report.get("ssrc") if isinstance(report.get("ssrc"), int) else None,
               "kind": report.get("kind"), "mid": report.get("mid")}
        for name, value in report.items():
            if name not in row and name != "timestamp":
                fields.setdefault(name)
                row[name] = value
        rows.append(row)
    frame = build(capture, rows, WIDE_LEADING)
    for name in fields:
        values = [row.get(name) for row in rows]
        frame[name] = pd.Series(values, index=frame.index, dtype=OBJECT).astype(_dtype(values))
    return frame


def _check_type(capture: Capture, type: str) -> None:  # noqa: A002
    """ValueError for a type that is neither W3C's nor in the capture (`inbound_rtp`): an empty frame
    would read as "no such stream" when it means "no such type"."""
    present = {report.get("type") for _, _, report in _reports(capture)}
    if type in present:
        return
    valid = sorted(W3C_TYPES | {t for t in present if isinstance(t, str)})
    close = difflib.get_close_matches(type.replace("_", "-"), valid, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(f"stats_wide: no stats type {type!r}; {hint}valid types: {', '.join(valid)}")


def _dtype(values: list[Any]) -> str:
    """The schema dtype a report field's values fit: W3C fields are numbers, text or booleans."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "boolean"
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return INT
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return FLOAT
    if all(isinstance(v, str) for v in present):
        return TEXT
    return OBJECT

"""webrtc-internals stats series -> per-sample W3C stats reports, vectorised.

A dump keeps stats as one series per `<statsId>-<metric>` key: `{startTime, endTime, statsType,
values}` with `values` a JSON array *encoded as a string* (`stats_graph_helper.js`,
`data_series.js` in Chromium). Each series is parsed once into a numpy array (its string is
dropped at once, so memory stays near the file's size); a report's samples get their times from
the `<statsId>-timestamp` series (Chromium M117+, crbug.com/1462567) or, in older dumps, from
`startTime` at 1 s steps. A series shorter than its report's timestamps is placed by its
`endTime`, else aligned from the end (metrics such as `roundTripTime` or the computed rates start
late). Samples are then grouped into the getStats() calls they came from ("ticks"), and reports
are turned into dictionaries only chunk by chunk while they are written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import json_value
from .files import NoProgress, Progress, epoch_ms

#: W3C RTCStatsType values (and obsolete ones Chromium shipped); anything else is legacy goog stats.
W3C_TYPES = frozenset({
    "codec", "inbound-rtp", "outbound-rtp", "remote-inbound-rtp", "remote-outbound-rtp", "media-source",
    "media-playout", "peer-connection", "data-channel", "transport", "candidate-pair", "local-candidate",
    "remote-candidate", "certificate", "csrc", "ice-server", "track", "stream", "sender", "receiver",
    "transceiver", "sctp-transport",
})
#: W3C string members that webrtc-internals turns into numbers when they look like one
#: (`getNumberFromValue`): mid "0" is written as 0. They are given back as strings.
STRING_FIELDS = frozenset({
    "mid", "rid", "foundation", "usernameFragment", "iceLocalUsernameFragment", "label", "trackIdentifier",
    "address", "relatedAddress", "ip", "tlsVersion", "protocol", "playoutId", "sdpFmtpLine", "scalabilityMode",
    "encoderImplementation", "decoderImplementation", "contentType", "url",
})
#: Reports of one getStats() call share a timestamp; older dumps differ by a few ms at most.
TICK_MERGE_MS = 50.0
#: webrtc-internals keeps this many points per series (MAX_STATS_DATA_POINT_BUFFER_SIZE).
SERIES_CAP = 1000
CHUNK_TICKS = 32


def split_key(key: str) -> tuple[str, str]:
    """`<statsId>-<metric>` at the last `-`; computed keys `<statsId>-[a-b]` at the `-[`."""
    if key.endswith("]") and "-[" in key:
        at = key.index("-[")
        return key[:at], key[at + 1:]
    stats_id, _, metric = key.rpartition("-")
    return stats_id, metric


def _array(values: list[Any], name: str) -> np.ndarray:
    """One series as an array: int64/float64/bool when homogeneous, else shared-string objects."""
    if not values:
        return np.empty(0, dtype=object)
    first = values[0]
    if isinstance(first, int | float) and not isinstance(first, bool):
        try:
            arr = np.asarray(values)
        except (OverflowError, ValueError):
            arr = None
        if arr is not None and arr.dtype.kind in "iuf":
            if name in STRING_FIELDS:
                return _objects([_as_text(v) for v in arr.tolist()])
            return arr
    elif isinstance(first, bool) and all(isinstance(v, bool) for v in values):
        return np.asarray(values, dtype=bool)
    return _objects(values)


def _objects(values: list[Any]) -> np.ndarray:
    shared: dict[Any, Any] = {}
    arr = np.empty(len(values), dtype=object)
    arr[:] = [shared.setdefault(v, v) if isinstance(v, str) else v for v in values]
    return arr


def _as_text(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass
class Column:
    values: np.ndarray
    offset: int  # the report sample that values[0] belongs to


@dataclass
class ReportSeries:
    """One stats object over time: its samples' times (epoch ms) and a column per metric."""

    id: str
    type: str
    times: np.ndarray = field(default_factory=lambda: np.empty(0))
    columns: dict[str, Column] = field(default_factory=dict)


@dataclass
class SeriesProblems:
    legacy: int = 0
    computed: int = 0
    cut: int = 0
    stamped: int = 0
    capped: bool = False
    no_timestamps: int = 0
    unreadable: list[str] = field(default_factory=list)

    def messages(self, where: str) -> list[str]:
        out = [f"{where}: stats series {key!r}: values is not a JSON array, skipped" for key in self.unreadable[:5]]
        if len(self.unreadable) > 5:
            out.append(f"{where}: {len(self.unreadable) - 5} more unreadable stats series skipped")
        if self.legacy:
            out.append(f"{where}: {self.legacy} legacy (goog*/Conn-) stats series skipped")
        if self.no_timestamps and not self.stamped:
            out.append(f"{where}: stats objects have no -timestamp series (dump older than Chrome M117): "
                       "sample times assumed 1 s apart from startTime")
        elif self.no_timestamps or self.cut:
            out.append(f"{where}: {self.no_timestamps + self.cut} stats series or objects are incomplete "
                       "(the dump is cut short): dropped or timed from startTime")
        if self.capped:
            out.append(f"{where}: stats series hold their last {SERIES_CAP} samples only (webrtc-internals' cap):"
                       " earlier stats are not in the dump")
        return out


def build_reports(stats: dict[str, Any], problems: SeriesProblems,
                  progress: Progress | None = None) -> list[ReportSeries]:
    """Parse every series of one PeerConnection, emptying `stats` as it goes (to free the text)."""
    progress = progress or NoProgress()
    grouped: dict[str, dict[str, dict[str, Any]]] = {}
    for done, key in enumerate(list(stats), start=1):
        entry = stats.pop(key)
        if not done % 1024:
            progress.advance(1024)
        if not isinstance(entry, dict) or "statsType" not in entry:
            problems.cut += 1  # an entry the truncation ended before its statsType
            continue
        if entry["statsType"] not in W3C_TYPES:
            problems.legacy += 1
            continue
        stats_id, metric = split_key(key)
        if metric.startswith("["):
            problems.computed += 1  # webrtc-internals' own rates ([bytesSent_in_bits/s]); not W3C
            continue
        if "values" not in entry:
            problems.cut += 1  # the last series of a dump cut short
            continue
        text = entry.get("values")
        try:
            values = json_value(text) if isinstance(text, str) else text
            if not isinstance(values, list):
                raise ValueError
        except (ValueError, TypeError):
            problems.unreadable.append(key)
            continue
        entry["values"] = _array(values, metric)  # parsed once; the text goes with `entry`'s old value
        grouped.setdefault(stats_id, {})[metric] = entry
    return [r for r in (_report(i, metrics, problems) for i, metrics in grouped.items()) if r is not None]


def _report(stats_id: str, metrics: dict[str, dict[str, Any]], problems: SeriesProblems) -> ReportSeries | None:
    any_entry = next(iter(metrics.values()))
    report = ReportSeries(stats_id, any_entry["statsType"])
    stamps = metrics.pop("timestamp", None)
    metrics.pop("type", None)
    metrics.pop("id", None)
    if stamps is not None and len(stamps["values"]):
        problems.stamped += 1
        raw = stamps["values"]
        report.times = (raw.astype(float) if raw.dtype.kind in "iuf"
                        else np.asarray([_ms(v) for v in raw.tolist()], dtype=float))
    else:
        longest = max(metrics.values(), key=lambda e: len(e["values"]), default=None)
        start = epoch_ms(longest.get("startTime")) if longest else None
        if longest is None or start is None:
            return None
        problems.no_timestamps += 1
        report.times = start + 1000.0 * np.arange(len(longest["values"]))
    n = len(report.times)
    problems.capped |= n >= SERIES_CAP
    for metric, entry in metrics.items():
        values = entry["values"]
        if not len(values):
            continue
        if len(values) > n:
            values = values[-n:]
        report.columns[metric] = Column(values, _offset(report.times, entry, len(values), stamps is not None))
    return report


def _ms(value: Any) -> float:
    ms = epoch_ms(value)
    return np.nan if ms is None else ms


def _offset(times: np.ndarray, entry: dict[str, Any], count: int, stamped: bool) -> int:
    """Which report sample a series starts at: by its endTime (or startTime), else from the end."""
    n = len(times)
    if stamped:
        end = epoch_ms(entry.get("endTime"))
        if end is not None:
            hits = np.flatnonzero(np.abs(np.floor(times) - np.floor(end)) < 1.0)
            if hits.size:
                offset = int(hits[-1]) - (count - 1)
                if 0 <= offset <= n - count:
                    return offset
        return n - count
    start = epoch_ms(entry.get("startTime"))
    if start is None or not n:
        return n - count
    return int(min(max(round((start - times[0]) / 1000.0), 0), n - count))


@dataclass
class Ticks:
    """Samples grouped by the getStats() call they came from, in time order."""

    times: np.ndarray  # epoch ms of each tick
    report: np.ndarray  # per kept sample: report index, sorted by (tick, report)
    tick: np.ndarray
    sample: np.ndarray

    def __len__(self) -> int:
        return len(self.times)


def plan_ticks(reports: list[ReportSeries]) -> Ticks:
    """Cluster sample times into ticks; RTCP-timed remote-* samples join the next tick."""
    clock = [r.times for r in reports if not r.type.startswith("remote-")] or [r.times for r in reports]
    every = np.concatenate(clock) if clock else np.empty(0)
    every = np.unique(every[np.isfinite(every)])
    if not every.size:
        empty = np.empty(0, dtype=np.int64)
        return Ticks(np.empty(0), empty, empty, empty)
    ends = np.r_[every[:-1][np.diff(every) > TICK_MERGE_MS], every[-1]]
    rep_parts, tick_parts, sample_parts = [], [], []
    for index, report in enumerate(reports):
        finite = np.flatnonzero(np.isfinite(report.times))
        if not finite.size:
            continue
        tick = np.minimum(np.searchsorted(ends, report.times[finite], side="left"), len(ends) - 1)
        keep = np.r_[tick[1:] != tick[:-1], True]  # a sample repeated into later ticks: the last
        rep_parts.append(np.full(int(keep.sum()), index, dtype=np.int64))
        tick_parts.append(tick[keep])
        sample_parts.append(finite[keep])
    rep, tick, sample = (np.concatenate(p) for p in (rep_parts, tick_parts, sample_parts))
    order = np.lexsort((rep, tick))
    return Ticks(ends, rep[order], tick[order], sample[order])


def iter_ticks(reports: list[ReportSeries], ticks: Ticks, report_time: Callable[[np.ndarray], np.ndarray],
               progress: Progress | None = None) -> Iterator[tuple[float, list[dict[str, Any]]]]:
    """(tick time in epoch ms, reports of that tick in the probe's shape), a chunk at a time."""
    progress = progress or NoProgress()
    bounds = np.searchsorted(ticks.tick, np.arange(len(ticks) + 1), side="left")
    for first in range(0, len(ticks), CHUNK_TICKS):
        last = min(first + CHUNK_TICKS, len(ticks))
        lo, hi = int(bounds[first]), int(bounds[last])
        rows: list[dict[str, Any] | None] = [None] * (hi - lo)
        rep, sample = ticks.report[lo:hi], ticks.sample[lo:hi]
        by_report = np.argsort(rep, kind="stable")
        cuts = np.flatnonzero(np.diff(rep[by_report])) + 1
        for positions in np.split(by_report, cuts):
            if not positions.size:
                continue
            report = reports[int(rep[positions[0]])]
            for position, row in zip(positions.tolist(), _rows(report, sample[positions], report_time), strict=True):
                rows[position] = row
        for tick in range(first, last):
            a, b = int(bounds[tick]) - lo, int(bounds[tick + 1]) - lo
            yield float(ticks.times[tick]), [r for r in rows[a:b] if r is not None]
        progress.advance(last - first)


def _rows(report: ReportSeries, samples: np.ndarray,
          report_time: Callable[[np.ndarray], np.ndarray]) -> list[dict[str, Any]]:
    stamps = report_time(report.times[samples]).tolist()
    rows = [{"id": report.id, "type": report.type, "timestamp": ts} for ts in stamps]
    for name, column in report.columns.items():
        index = samples - column.offset
        present = (index >= 0) & (index < len(column.values))
        if present.all():
            for row, value in zip(rows, column.values[index].tolist(), strict=True):
                row[name] = value
        elif present.any():
            values = column.values[index[present]].tolist()
            for position, value in zip(np.flatnonzero(present).tolist(), values, strict=True):
                rows[position][name] = value
    return rows

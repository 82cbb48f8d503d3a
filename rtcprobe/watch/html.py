"""`rtcprobe report DIR` on a watch history: trends over time and every change with its date.
A view: it renders trends.py's points and the records, and computes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

from ..outputs import replacing
from ..report.html_base import PAGE_TAIL, Cell, image, join, page_head, section, table, tag
from ..report.plots import _figure, to_data_uri
from .history import History, open_history
from .trends import TrendPoint, trends

SERIES: list[tuple[str, str, Callable[[TrendPoint], float | None]]] = [
    ("connect time", "ms", lambda p: p.connect_ms),
    ("RTT (median, ICE)", "ms", lambda p: p.rtt_ms),
    ("voice-to-voice (median)", "ms", lambda p: p.v2v_ms),
    ("candidates in the answer", "", lambda p: p.candidates),
    ("matrix variants accepted", "", lambda p: p.matrix_accepted),
]


def _plot(points: list[TrendPoint], name: str, unit: str, value: Callable[[TrendPoint], float | None]) -> str | None:
    xy = [(datetime.fromisoformat(p.record.at), value(p)) for p in points if value(p) is not None]
    if not xy:
        return None
    figure = _figure(8, 2.2)
    ax = figure.add_subplot()
    ax.plot([x for x, _ in xy], [y for _, y in xy], marker="o")
    locator = AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    ax.set_ylabel(f"{name} ({unit})" if unit else name)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    return to_data_uri(figure)


def _number(value: float | None, unit: str = "") -> str:
    return "—" if value is None else f"{value:.0f}{(' ' + unit) if unit else ''}"


def history_html(history: History, points: list[TrendPoint], title: str | None = None) -> str:
    heading = title or f"History of {history.target}"
    plots = [(name, _plot(points, name, unit, value)) for name, unit, value in SERIES]
    trend_section = join(image(uri, name) for name, uri in plots if uri) or tag("p", "no measured numbers yet")
    runs = table(["run", "capture", "connect", "RTT", "V2V", "candidates", "candidate set", "answered codecs",
                  "changes"],
                 [[p.record.at, p.record.reason if not p.problem else Cell(p.problem, "bad"),
                   _number(p.connect_ms, "ms"), _number(p.rtt_ms, "ms"), _number(p.v2v_ms, "ms"),
                   _number(p.candidates), p.candidate_set or "—", ", ".join(p.codecs) or "—",
                   str(len(p.record.changes) + len(p.record.expectations_failed))] for p in points])
    changes = [[p.record.at, p.record.against or "—", Cell(line, "wrap")] for p in points
               for line in [*p.record.changes, *(f"expectation failed: {e}" for e in p.record.expectations_failed)]]
    change_section = table(["date", "compared with", "change"], changes) if changes else \
        tag("p", "no change in any run")
    body = join([tag("h1", heading), tag("p", f"{len(points)} run(s), {len(changes)} change(s)", class_="meta"),
                 section("changes", "Changes", change_section), section("trends", "Trends", trend_section),
                 section("runs", "Runs", runs)])
    return page_head(heading) + body + PAGE_TAIL


def write_history_report(directory: str, output: str | None, title: str | None = None) -> tuple[str, int, int]:
    """Render the history in `directory` to `output` (default reports/<dir>-history.html) through
    `replacing` (a failed run leaves an older report as it was); (path, runs, changes)."""
    history = open_history(directory)
    out = Path(output) if output else Path("reports") / f"{Path(directory).resolve().name}-history.html"
    points = trends(history)
    text = history_html(history, points, title)
    with replacing(out, encoding="utf-8", newline="") as file:
        file.write(text)
    return str(out), len(points), sum(len(p.record.changes) + len(p.record.expectations_failed) for p in points)

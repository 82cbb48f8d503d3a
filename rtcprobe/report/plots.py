"""Matplotlib figures of analyzer results, as PNG data URIs for the self-contained report.

Figures are drawn with the Agg canvas directly (``Figure`` + ``FigureCanvasAgg``), never through
pyplot: no global backend switch, so importing this in a notebook leaves the user's inline plots
alone, and nothing is kept in pyplot's figure registry between reports.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

import matplotlib
from matplotlib import ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..analyze.impairment import ImpairedInterval
from ..analyze.latency import ConnectBreakdown
from ..analyze.messages import ChannelEvent, Message
from ..analyze.streams import StreamPoint, StreamSeries

DPI = 100
#: Phases in waterfall order, with their colours.
PHASE_COLOURS = {"http": "#4e79a7", "ice": "#f28e2b", "dtls": "#59a14f", "first media": "#76b7b2",
                 "data channel": "#b07aa1"}
FAILED = "#d62728"
#: Shade of an impaired interval (rtcprobe.net) behind the time plots, and how many are drawn (a
#: schedule has a few; a hostile capture may hold thousands, which the report's table counts).
IMPAIRED = "#e15759"
SHADED_LIMIT = 50
#: Of those, how many are labelled with their SPEC (labels of short, close intervals overlap).
LABELLED_LIMIT = 12


P = ParamSpec("P")
R = TypeVar("R")


def _literal_text(draw: Callable[P, R]) -> Callable[P, R]:
    """Labels come from captures (data-channel labels, file names): `$...$` in them is text, not
    mathtext that matplotlib would parse and could fail on."""
    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with matplotlib.rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)
    return wrapper


def _short(text: str, limit: int = 32) -> str:
    """A label from the capture, cut to fit an axis (the tables below the plot show it whole)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def to_data_uri(figure: Figure) -> str:
    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    figure.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float, height: float, constrained: bool = True) -> Figure:
    return Figure(figsize=(width, height), layout="constrained" if constrained else None)


@_literal_text
def waterfall(breakdown: ConnectBreakdown, duration: float) -> str:
    """Connect phases as bars on the capture clock (ms); a phase that never ended runs to the end, red."""
    phases = breakdown.phases
    figure = _figure(8, 0.6 + 0.45 * max(len(phases), 1))
    ax = figure.add_subplot()
    # The axis ends where set-up ended; only a phase that never finished stretches it to the capture's end.
    ends = [p.end if p.end is not None else max(duration, p.start or 0.0) for p in phases]
    horizon = max(ends + [0.001]) * 1000
    for row, phase in enumerate(phases):
        start = (phase.start or 0.0) * 1000
        if phase.end is None:
            ax.barh(row, max(horizon - start, horizon * 0.01), left=start, color="none", edgecolor=FAILED,
                    hatch="//", height=0.6)
            ax.text(start, row, "  never finished", va="center", ha="left", color=FAILED, fontsize=9)
        else:
            width = max((phase.end - (phase.start or 0.0)) * 1000, horizon * 0.002)
            ax.barh(row, width, left=start, color=PHASE_COLOURS.get(phase.name, "#9c755f"), height=0.6)
            ax.text(start + width, row, f"  {(phase.duration or 0) * 1000:.1f} ms", va="center", ha="left", fontsize=9)
    ax.set_yticks(range(len(phases)), [p.name for p in phases])
    ax.invert_yaxis()
    ax.set_xlabel("ms since the capture started")
    ax.set_xlim(0, horizon * 1.18 or 1)
    ax.grid(axis="x", alpha=0.3)
    if not phases:
        ax.text(0.5, 0.5, "no phase started", transform=ax.transAxes, ha="center", va="center")
    return to_data_uri(figure)


def shade_impaired(axes: Sequence[Axes], impaired: Sequence[ImpairedInterval]) -> None:
    """Each impaired interval as a band behind every panel, its SPEC written at the top of the first."""
    for number, interval in enumerate(impaired[:SHADED_LIMIT]):
        for row, ax in enumerate(axes):
            ax.axvspan(interval.start, interval.end, color=IMPAIRED, alpha=0.12, linewidth=0, zorder=0,
                       label="impaired network (shaded)" if number == row == 0 else None)
        if number >= LABELLED_LIMIT:
            continue
        axes[0].text(interval.start, 0.97, f" {_short(interval.spec, 40)}", transform=axes[0].get_xaxis_transform(),
                     va="top", ha="left", fontsize=7, color="#a03030", clip_on=True)


@_literal_text
def streams(series: Sequence[StreamSeries], pair_rtt: Sequence[tuple[float, float]],
            impaired: Sequence[ImpairedInterval] = (),
            available: Sequence[tuple[float, float | None, float | None]] = ()) -> str | None:
    """RTT, jitter, loss and bitrate over time, one line per RTP stream, impaired intervals shaded,
    the bandwidth estimate (available bitrate) on the bitrate panel; None without samples."""
    if not any(s.points for s in series):
        return None
    # Fixed margins: the panels' labels are known, and constrained layout would double the drawing time.
    figure = _figure(9, 8, constrained=False)
    figure.subplots_adjust(left=0.09, right=0.98, top=0.98, bottom=0.13, hspace=0.12)
    axes = figure.subplots(4, 1, sharex=True)
    panels = (("round-trip time (ms)", lambda p: p.round_trip_time, 1000.0),
              ("jitter (ms)", lambda p: p.jitter, 1000.0),
              ("loss (%)", lambda p: p.loss_fraction, 100.0),
              ("bitrate (kbit/s)", lambda p: p.bitrate_bps, 0.001))
    for ax, (label, get, scale) in zip(axes, panels, strict=True):
        for number, s in enumerate(series):
            points = [(p.t, get(p)) for p in s.points if get(p) is not None]
            if points:  # one colour per stream in every panel
                ax.plot([t for t, _ in points], [v * scale for _, v in points], marker="o", markersize=3,
                        linewidth=1.2, label=s.label, color=f"C{number % 10}",
                        linestyle="-" if s.direction == "sent" else "--")
        ax.set_ylabel(label, fontsize=9)
        ax.grid(alpha=0.3)
    if pair_rtt:
        axes[0].plot([t for t, _ in pair_rtt], [v * 1000 for _, v in pair_rtt], color="black", linewidth=1,
                     linestyle=":", label="ICE candidate pair")
    _available(axes[-1], available)
    for ax in axes:  # after every line: a fixed limit stops autoscaling for lines drawn later
        ax.set_ylim(bottom=0)
    shade_impaired(axes, impaired)
    handles, labels = [], []
    for ax in axes:
        for handle, text in zip(*ax.get_legend_handles_labels(), strict=True):
            if text not in labels:
                handles.append(handle)
                labels.append(text)
    figure.legend(handles, labels, loc="lower center", ncols=min(len(labels), 3), fontsize=8, frameon=False)
    axes[-1].set_xlabel("seconds since the capture started")
    return to_data_uri(figure)


def _available(ax: Axes, available: Sequence[tuple[float, float | None, float | None]]) -> None:
    """The selected pair's bandwidth estimate (W3C availableOutgoing/IncomingBitrate) as kbit/s lines."""
    for index, name in ((1, "available outgoing bitrate (estimate)"), (2, "available incoming bitrate (estimate)")):
        points = [(a[0], a[index]) for a in available if a[index] is not None]
        if points:
            ax.plot([t for t, _ in points], [v / 1000 for _, v in points], color="black",  # type: ignore[operator]
                    linewidth=1, linestyle="-." if index == 1 else (0, (1, 3)), label=name)


#: Per-stream panels: (title, unit, what a point gives, scale), drawn only when the stream has values.
STREAM_PANELS: tuple[tuple[str, str, Callable[[StreamPoint], float | None], float], ...] = (
    ("bitrate", "kbit/s", lambda p: p.bitrate_bps, 0.001),
    ("packets lost (cumulative)", "packets", lambda p: p.packets_lost, 1.0),
    ("jitter", "ms", lambda p: p.jitter, 1000.0),
    ("round-trip time", "ms", lambda p: p.round_trip_time, 1000.0),
    ("frames per second", "fps", lambda p: p.frames_per_second, 1.0),
    ("resolution (frame height)", "px", lambda p: p.frame_height, 1.0),
    ("audio level", "0..1", lambda p: p.audio_level, 1.0),
)
#: Streams drawn as panels; the table lists every stream.
STREAM_PANEL_LIMIT = 12


def _counts(ax: Axes) -> None:
    """Whole numbers on the y axis, and room up to at least 1 (a count that stays 0 is not 0.05)."""
    ax.yaxis.set_major_locator(ticker.MaxNLocator(nbins=5, integer=True))
    ax.set_ylim(0, max(ax.get_ylim()[1], 1))


@_literal_text
def stream_panels(stream: StreamSeries, span: tuple[float, float],
                  available: Sequence[tuple[float, float | None, float | None]] = (),
                  impaired: Sequence[ImpairedInterval] = ()) -> str | None:
    """One stream's W3C fields over time, a small panel each (the fields it has: bitrate with the
    bandwidth estimate of its direction, loss, jitter, RTT, fps, resolution, audio level, NACK/PLI);
    None when it has none. Every stream shares the session's time axis `span`."""
    drawn = [(title, unit, get, scale, pts) for title, unit, get, scale in STREAM_PANELS
             if (pts := [(p.t, v * scale) for p in stream.points if (v := get(p)) is not None])]
    feedback = [(name, pts) for name, get in (("NACK", lambda p: p.nack_count), ("PLI", lambda p: p.pli_count))
                if (pts := [(p.t, v) for p in stream.points if (v := get(p)) is not None])]
    count = len(drawn) + bool(feedback)
    if not count:
        return None
    rows = (count + 1) // 2
    height = 0.9 + 1.6 * rows
    figure = _figure(9, height, constrained=False)
    figure.subplots_adjust(left=0.08, right=0.98, top=1 - 0.6 / height, bottom=0.5 / height, hspace=0.6, wspace=0.22)
    figure.suptitle(_short(stream.label, 80), fontsize=10, x=0.08, y=1 - 0.12 / height, ha="left", va="top",
                    fontweight="bold")
    axes = list(figure.subplots(rows, 2, sharex=True, squeeze=False).flat)
    style = "-" if stream.direction == "sent" else "--"
    for ax, (title, unit, _, _, pts) in zip(axes, drawn, strict=False):
        ax.plot([t for t, _ in pts], [v for _, v in pts], marker="o", markersize=2.5, linewidth=1.2, linestyle=style)
        if title == "bitrate":
            _available(ax, [(t, up, None) if stream.direction == "sent" else (t, None, down)
                            for t, up, down in available])
            if ax.get_legend_handles_labels()[1]:
                ax.legend(fontsize=6, frameon=False, loc="lower left")
        ax.set_title(f"{title} ({unit})", fontsize=8, loc="left")
        if unit in ("packets", "px"):
            _counts(ax)
    if feedback:
        ax = axes[len(drawn)]
        for name, pts in feedback:
            ax.step([t for t, _ in pts], [v for _, v in pts], where="post", label=f"{name} count")
        ax.set_title("NACK / PLI (cumulative)", fontsize=8, loc="left")
        ax.legend(fontsize=6, frameon=False, loc="upper left")
        _counts(ax)
    for ax in axes[:count]:
        ax.set_xlim(*span)
        ax.set_ylim(0, max(ax.get_ylim()[1], 1))  # a flat 0 is shown as 0 on a 0..1 axis, not 0..0.05
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        ax.tick_params(labelbottom=True)
    for ax in axes[count:]:
        ax.set_visible(False)
    shade_impaired(axes[:count], impaired)
    figure.supxlabel("seconds since the capture started", fontsize=8)
    return to_data_uri(figure)


@_literal_text
def datachannel_timing(messages: Sequence[Message], channels: Sequence[ChannelEvent], duration: float) -> str | None:
    """Each message as a mark on its channel's sent/received lane; opens and closes as lines."""
    if not messages and not channels:
        return None
    lanes = list(dict.fromkeys((m.label, m.direction) for m in messages)) or [(c.label, "") for c in channels[:1]]
    figure = _figure(9, 0.9 + 0.45 * len(lanes))
    ax = figure.add_subplot()
    for lane, (label, direction) in enumerate(lanes):
        hits = [m for m in messages if (m.label, m.direction) == (label, direction)]
        ax.scatter([m.t for m in hits], [lane] * len(hits), s=[12 + min(m.size, 4000) / 40 for m in hits],
                   marker="|" if direction == "sent" else "o", alpha=0.7)
    lo, hi = _span([m.t for m in messages] or [c.t for c in channels], duration)
    for c in channels:  # an open or close outside the messages' span is in the table, not on this axis
        if lo <= c.t <= hi:
            ax.axvline(c.t, color="#59a14f" if c.action == "open" else "#9c755f", linewidth=1, linestyle="--")
            ax.text(c.t, -0.6, f" {_short(c.label)} {c.action}", fontsize=8, rotation=0, va="bottom", clip_on=True)
    ax.set_yticks(range(len(lanes)), [f"{_short(label)} {direction}".strip() for label, direction in lanes])
    ax.set_ylim(-0.8, len(lanes) - 0.4)
    ax.invert_yaxis()
    ax.set_xlim(lo, hi)
    ax.set_xlabel("seconds since the capture started (mark size grows with message size)")
    ax.grid(axis="x", alpha=0.3)
    return to_data_uri(figure)


def _span(times: Sequence[float], duration: float) -> tuple[float, float]:
    """The time axis of what happened: from the first to the last message, padded by 5 % (at least
    50 ms), never before 0. An axis from 0 to the capture's end would squeeze a burst of
    messages at the start of a long session (or after a long set-up) into one column."""
    lo, hi = (min(times), max(times)) if times else (0.0, max(duration, 0.0))
    pad = max((hi - lo) * 0.05, 0.05)
    return max(lo - pad, 0.0), hi + pad


def _strip(ax: Axes, groups: Sequence[Sequence[float]], names: Sequence[str]) -> None:
    """Box plot with every measurement as a point beside it (deterministic spread, no randomness)."""
    present = [(n, [v * 1000 for v in g]) for n, g in zip(names, groups, strict=True) if g]
    if not present:
        ax.text(0.5, 0.5, "no measurements", transform=ax.transAxes, ha="center", va="center")
        return
    positions = list(range(1, len(present) + 1))
    ax.boxplot([g for _, g in present], positions=positions, widths=0.5, showfliers=False)
    for x, (_, values) in zip(positions, present, strict=True):
        count = len(values)
        offsets = [(-0.18 + 0.36 * i / (count - 1)) if count > 1 else 0.0 for i in range(count)]
        ax.scatter([x + o for o in offsets], values, s=10, alpha=0.6, color="#4e79a7", zorder=3)
    tilt = len(present) > 4
    ax.set_xticks(positions, [_short(n) for n, _ in present], rotation=30 if tilt else 0, ha="right" if tilt else "center",
                  fontsize=8)
    values = [v for _, g in present for v in g if v > 0]
    if values and max(values) / max(min(values), 1e-6) > 100:
        log_axis(ax)
    ax.grid(axis="y", alpha=0.3)


def _plain(value: float, _position: float | None = None) -> str:
    """A tick as a plain number (100, 1000, 0.5): matplotlib's default log labels are mathtext,
    which the reports turn off (`_literal_text`), so they would show as `$\\mathdefault{10^{2}}$`."""
    return f"{value:,.10g}"


def log_axis(ax: Axes) -> None:
    """A logarithmic y axis labelled in plain numbers (decades, and 2 and 5 between them)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(_plain))
    ax.yaxis.set_minor_formatter(ticker.NullFormatter())


@_literal_text
def latency_distributions(labels: Sequence[str], breakdowns: Sequence[ConnectBreakdown],
                          max_per_capture: int = 30) -> str:
    """Connect phases across captures, and response latencies per capture (pooled past `max_per_capture`)."""
    figure = _figure(10, 7.5)
    top, bottom = figure.subplots(2, 1)
    names = list(PHASE_COLOURS) + ["to media"]
    groups = [[p.duration for b in breakdowns for p in b.phases if p.name == n and p.duration is not None]
              for n in PHASE_COLOURS]
    groups.append([b.total for b in breakdowns if b.total is not None and b.failed_phase is None])
    _strip(top, groups, names)
    top.set_title(f"connect phases across {len(breakdowns)} capture(s)", fontsize=10)
    top.set_ylabel("ms" + (" (log scale)" if top.get_yscale() == "log" else ""))
    if len(breakdowns) <= max_per_capture:
        _strip(bottom, [b.response_latencies for b in breakdowns], list(labels))
        bottom.set_title("data-channel response latency per capture", fontsize=10)
    else:
        _strip(bottom, [[v for b in breakdowns for v in b.response_latencies]], [f"all {len(breakdowns)} captures"])
        bottom.set_title("data-channel response latency, all captures pooled", fontsize=10)
    bottom.set_ylabel("ms" + (" (log scale)" if bottom.get_yscale() == "log" else ""))
    return to_data_uri(figure)

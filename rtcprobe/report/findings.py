"""Terminal views of the detector pass and of expectations: findings first, then per-stream quality
and the MOS of each direction, then the expectations' verdicts. They render, never compute."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..analyze.detectors import Detection
from ..analyze.expect import Outcome
from .terminal import safe

_SEVERITY = {"error": "bold red", "warning": "yellow"}
_STATUS = {"pass": "green", "fail": "bold red", "skipped": "dim"}


def _num(value: float | None, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
    return "—" if value is None else f"{value * scale:.{digits}f}{unit}"


def render_findings(detection: Detection, console: Console) -> None:
    """The ICE outcome and every finding, each with the rule that fired and its numbers."""
    console.print(Text.assemble(("ICE: ", "bold"), safe(detection.ice_outcome,
                                                        "red" if detection.ice_outcome == "failed" else ""),
                                "  ", safe(detection.ice_detail, "dim")))
    if not detection.findings:
        console.print(Text("Findings: none (no detector fired)", style="green"))
        return
    table = Table(title=f"Findings ({len(detection.findings)})", title_justify="left", box=box.SIMPLE_HEAD)
    for name in ("severity", "code", "what happened", "rule", "after"):
        table.add_column(name, overflow="fold")
    for f in detection.findings:
        table.add_row(safe(f.severity, _SEVERITY.get(f.severity, "")), safe(f.code), safe(f.detail), safe(f.rule),
                      safe(f.source, "dim"))
    console.print(table)


def render_quality(detection: Detection, console: Console) -> None:
    """One row per stream (bitrate, loss, jitter, RTT, MOS) and the MOS of each direction."""
    if not detection.streams:
        return
    table = Table(title="Stream quality", title_justify="left", box=box.SIMPLE_HEAD)
    for name in ("stream", "codec", "bitrate", "loss", "jitter", "RTT", "MOS"):
        table.add_column(name, justify="left" if name in ("stream", "codec") else "right")
    for s in detection.streams:
        table.add_row(safe(s.label), safe(s.codec or "—"), _num(s.bitrate_bps, 1e-3, 0, " kbit/s"),
                      _num(s.loss_fraction, 100, 2, " %"), _num(s.jitter_s, 1000, 1, " ms"),
                      _num(s.rtt_s, 1000, 1, " ms") + ("*" if s.rtt_source == "candidate-pair" else ""),
                      _num(s.mos.mos if s.mos else None, 1, 2))
    console.print(table)
    if any(s.rtt_source == "candidate-pair" for s in detection.streams):
        console.print(Text("* RTT of the selected ICE pair (the stream has no RTCP round-trip time)", style="dim"))
    for d in detection.mos:
        if d.estimate is None:
            console.print(safe(f"MOS {d.direction}: {d.note}", "dim"))
        else:
            e = d.estimate
            console.print(safe(f"MOS {d.direction}: {e.mos:.2f} (R {e.r_factor:.1f}; effective latency "
                               f"{e.effective_latency_ms:.0f} ms, loss {e.loss_pct:.2f} %; {d.note})"))


def render_expectations(outcomes: list[Outcome], console: Console, title: str = "Expectations") -> None:
    if not outcomes:
        return
    table = Table(title=safe(title), title_justify="left", box=box.SIMPLE_HEAD)
    for name in ("", "expectation", "measured", "verdict"):
        table.add_column(name, overflow="fold")
    for o in outcomes:
        mark = {"pass": "PASS", "fail": "FAIL", "skipped": "SKIP"}[o.status]
        table.add_row(safe(mark, _STATUS[o.status]), safe(o.expectation), safe(o.shown), safe(o.message))
    console.print(table)

"""The report's first section of a capture: the ICE outcome, the detectors' findings (each with
its rule and numbers), the MOS of each direction and one quality row per stream. Renders only:
the numbers come from rtcprobe.analyze.detectors and rtcprobe.analyze.mos."""

from __future__ import annotations

from typing import Any

from ..analyze.detectors import Detection
from .html_base import Cell, Markup, join, section, table, tag


def _num(value: float | None, scale: float, digits: int, unit: str) -> Cell:
    return Cell("—" if value is None else f"{value * scale:,.{digits}f}{unit}", "num")


def findings_section(detection: Detection, anchor: str) -> Markup:
    ice_class = "bad" if detection.ice_outcome == "failed" else None
    parts: list[Any] = [tag("p", join([tag("strong", "ICE outcome: "), tag("span", detection.ice_outcome, class_=ice_class),
                                       " — ", detection.ice_detail]))]
    if detection.findings:
        rows = [[Cell(f.severity, "bad" if f.severity == "error" else "warn"), f.code,
                 Cell(f.detail, "wrap"), Cell(f.rule, "wrap"), Cell(f.source, "muted")] for f in detection.findings]
        parts.append(table(["severity", "code", "what happened", "rule that fired", "after"], rows, class_="findings"))
    else:
        parts.append(tag("p", "No detector fired.", class_="good"))
    for d in detection.mos:
        if d.estimate is None:
            parts.append(tag("p", f"Estimated MOS ({d.direction}): {d.note}", class_="muted"))
        else:
            e = d.estimate
            parts.append(tag("p", join([tag("strong", f"Estimated MOS ({d.direction}): {e.mos:.2f}"),
                                        f" — R {e.r_factor:.1f}, effective latency {e.effective_latency_ms:.0f} ms "
                                        f"(RTT + 2 × jitter + 10 ms), loss {e.loss_pct:.2f} %; {d.note}"])))
    if detection.streams:
        rows = [[s.label, s.codec or "—", _num(s.bitrate_bps, 1e-3, 0, " kbit/s"), _num(s.loss_fraction, 100, 2, " %"),
                 _num(s.jitter_s, 1000, 1, " ms"),
                 _num(s.rtt_s, 1000, 1, " ms" + (" (ICE)" if s.rtt_source == "candidate-pair" else "")),
                 _num(s.mos.mos if s.mos else None, 1, 2, "")] for s in detection.streams]
        parts += [tag("h3", "Stream quality"),
                  table(["stream", "codec", "mean bitrate", "loss", "mean jitter", "median RTT", "MOS"], rows),
                  tag("p", "RTT (ICE): the selected pair's round-trip time, for streams without an RTCP one. MOS: "
                           "E-model estimate (rtcprobe.analyze.mos).", class_="muted")]
    return section(f"{anchor}findings", "Findings", *parts)

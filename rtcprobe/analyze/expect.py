"""Expectations: `--expect 'loss<2%'` turns a capture into a CI verdict.

Grammar (one expectation per `--expect`)::

    EXPR   := METRIC OP NUMBER [UNIT]
    METRIC := a name of METRICS, e.g. connect, loss.received, mos, v2v.p90
    OP     := <  <=  >  >=  ==  !=
    UNIT   := ms | s                 for times (required: "500" alone could be either)
              %                      for loss (required)
              bps | kbps | mbps (also bit, kbit, mbit)   for bitrates
              (none)                 for scores and counts

A metric that a capture cannot measure (no voice turns, no RTT in an old dump) is `unmeasured`.
By default an unmeasured expectation FAILS: a gate that passes when its number vanished (the voice
detector broke, the target stopped sending audio) no longer guards anything. `unmeasured="skip"`
reports it as skipped instead (JUnit <skipped/>), for gates shared by captures of different kinds.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from statistics import median

from ..capture import Capture
from .detectors import Detection
from .distribution import distribution
from .latency import connect_breakdown, response_latencies
from .streams import pair_rtt
from .voice import voice_summary

TIME, PERCENT, SCORE, RATE, COUNT = "time", "percent", "score", "rate", "count"
_UNITS: dict[str, dict[str, float]] = {
    TIME: {"ms": 1e-3, "s": 1.0},
    PERCENT: {"%": 0.01},
    RATE: {"bps": 1.0, "bit": 1.0, "kbps": 1e3, "kbit": 1e3, "mbps": 1e6, "mbit": 1e6},
    SCORE: {"": 1.0},
    COUNT: {"": 1.0},
}
_KIND_WORDS = {TIME: "a time: ms or s", PERCENT: "a percentage: %", RATE: "a bitrate: bps, kbps or mbps",
               SCORE: "a score: no unit", COUNT: "a count: no unit"}
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le, ">=": operator.ge, "==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt}
_DIST = ("p50", "p90", "max", "min")

#: name -> (kind, what it measures). Values are in base units: seconds, fraction 0..1, bit/s.
METRICS: dict[str, tuple[str, str]] = {
    "connect": (TIME, "capture start to media flowing (connect-time total)"),
    **{f"connect.{p}": (TIME, f"the {p} phase of set-up") for p in ("http", "ice", "dtls", "media", "datachannel")},
    "loss": (PERCENT, "packet loss of the worse direction (worst stream)"),
    "loss.sent": (PERCENT, "loss of what rtcprobe sent, as the far end reported it (worst stream)"),
    "loss.received": (PERCENT, "loss of what rtcprobe received (worst stream)"),
    "jitter": (TIME, "mean interarrival jitter of the worse direction (worst stream)"),
    "jitter.sent": (TIME, "jitter the far end reported for what rtcprobe sent"),
    "jitter.received": (TIME, "jitter of what rtcprobe received"),
    "rtt": (TIME, "median round-trip time of the selected ICE pair (else the worst stream's RTCP RTT)"),
    "mos": (SCORE, "estimated MOS of the worse direction (E-model, rtcprobe.analyze.mos)"),
    "mos.sent": (SCORE, "estimated MOS of what rtcprobe sent"),
    "mos.received": (SCORE, "estimated MOS of what rtcprobe received"),
    "bitrate.sent": (RATE, "mean bitrate sent, all streams"),
    "bitrate.received": (RATE, "mean bitrate received, all streams"),
    **{f"response.{s}": (TIME, f"data-channel request -> answer latency, {s}") for s in _DIST},
    **{f"v2v.{s}": (TIME, f"voice-to-voice latency of the answered voice turns (capture --turns), {s}") for s in _DIST},
    "turns.unanswered": (COUNT, "voice turns the agent did not answer before the listen timeout"),
    "findings": (COUNT, "detector findings (warnings and errors)"),
    "errors": (COUNT, "detector findings of severity error"),
}

_EXPR = re.compile(r"\s*([A-Za-z][\w.]*)\s*(<=|>=|==|!=|<|>|=)\s*(\S.*?)\s*")
_VALUE = re.compile(r"([-+]?(?:\d+(?:\.\d*)?|\.\d+))\s*([A-Za-z%/]*)")


class ExpectationError(ValueError):
    """A malformed expectation; the message quotes the bad part."""


@dataclass(frozen=True)
class Expectation:
    text: str  # as written
    metric: str
    op: str
    value: float  # base units
    unit: str  # as written ("" for none)

    @property
    def kind(self) -> str:
        return METRICS[self.metric][0]


def parse_expectation(text: str) -> Expectation:
    found = _EXPR.fullmatch(text)
    if found is None:
        raise ExpectationError(f"--expect {text!r}: expected METRIC OP VALUE such as 'loss<2%' "
                               "(OP one of < <= > >= == !=)")
    name, op, rest = found.groups()
    if op == "=":
        raise ExpectationError(f"--expect {text!r}: '=' is not a comparison; write '=='")
    metric = name.lower()
    if metric not in METRICS:
        raise ExpectationError(f"--expect {text!r}: unknown metric {name!r} (one of {', '.join(METRICS)})")
    value = _VALUE.fullmatch(rest)
    if value is None:
        raise ExpectationError(f"--expect {text!r}: {rest!r} is not a number with an optional unit")
    number, unit = float(value.group(1)), value.group(2).lower()
    kind = METRICS[metric][0]
    if unit not in _UNITS[kind]:
        why = "needs a unit" if not unit else f"unit {value.group(2)!r} does not fit"
        raise ExpectationError(f"--expect {text!r}: {metric} {why} ({_KIND_WORDS[kind]})")
    return Expectation(text.strip(), metric, op, number * _UNITS[kind][unit], unit)


@dataclass(frozen=True)
class Outcome:
    """One expectation against one capture."""

    expectation: str
    metric: str
    status: str  # "pass" | "fail" | "skipped"
    measured: float | None  # base units; None when not measured
    shown: str  # the measured value in the expectation's unit, or "not measured"
    message: str

    @property
    def failed(self) -> bool:
        return self.status == "fail"


def _show(value: float, expectation: Expectation) -> str:
    kind, unit = expectation.kind, expectation.unit
    scaled = value / _UNITS[kind][unit]
    if kind == COUNT:
        return f"{scaled:.0f}"
    if kind == SCORE:
        return f"{scaled:.2f}"
    return f"{scaled:.3g} {unit}" if abs(scaled) >= 100 else f"{scaled:.2f} {unit}".replace(".00 ", " ")


def _worst(values: list[float | None], pick: Callable[[list[float]], float] = max) -> float | None:
    present = [v for v in values if v is not None]
    return pick(present) if present else None


@dataclass
class Measurements:
    """Every metric of METRICS for one capture (None: not measured) and why one is missing."""

    values: dict[str, float | None]
    notes: dict[str, str]


def measure(capture: Capture, detection: Detection) -> Measurements:
    out: dict[str, float | None] = dict.fromkeys(METRICS)
    breakdown = connect_breakdown(capture)
    notes = {"connect": breakdown.total_note} if breakdown.total_note else {}
    out["connect"] = breakdown.total
    for key, phase in (("http", "http"), ("ice", "ice"), ("dtls", "dtls"), ("media", "first media"),
                       ("datachannel", "data channel")):
        found = breakdown.phase(phase)
        out[f"connect.{key}"] = found.duration if found else None
    streams = detection.streams
    for direction in ("sent", "received"):
        mine = [s for s in streams if s.direction == direction]
        out[f"loss.{direction}"] = _worst([s.loss_fraction for s in mine])
        out[f"jitter.{direction}"] = _worst([s.jitter_s for s in mine])
        rates = [s.bitrate_bps for s in mine if s.bitrate_bps is not None]
        out[f"bitrate.{direction}"] = sum(rates) if rates else None
        rated = next((d for d in detection.mos if d.direction == direction and d.estimate), None)
        out[f"mos.{direction}"] = rated.estimate.mos if rated and rated.estimate else None
    out["loss"] = _worst([out["loss.sent"], out["loss.received"]])
    out["jitter"] = _worst([out["jitter.sent"], out["jitter.received"]])
    out["mos"] = _worst([out["mos.sent"], out["mos.received"]], min)
    ice = [v for _, v in pair_rtt(capture)]
    out["rtt"] = median(ice) if ice else _worst([s.rtt_s for s in streams])
    voice = voice_summary(capture)
    if voice.turns and not voice.answered:
        notes |= {f"v2v.{s}": f"{len(voice.turns)} voice turn(s), none answered" for s in _DIST}
    out["turns.unanswered"] = float(voice.unanswered) if voice.turns else None
    v2v = voice.v2v  # milliseconds, over the answered turns (rtcprobe.analyze.voice)
    for prefix, d, scale in (("response", distribution(response_latencies(capture)), 1.0), ("v2v", v2v, 1e-3)):
        for stat, value in (("p50", d.median), ("p90", d.p90), ("max", d.maximum), ("min", d.minimum)):
            out[f"{prefix}.{stat}"] = None if value is None else value * scale
    out["findings"] = float(len(detection.findings))
    out["errors"] = float(len(detection.errors))
    return Measurements(out, notes)


_WHY_MISSING = {"v2v": "no voice turns in this capture (capture --turns records them)",
                "turns": "no voice turns in this capture (capture --turns records them)", "response": "no data-channel request was answered",
                "mos": "no RTT, jitter or loss for its streams", "connect": "set-up did not reach this phase",
                "rtt": "no round-trip time was recorded"}


def evaluate(expectations: list[Expectation], measured: Measurements, unmeasured: str = "fail") -> list[Outcome]:
    """Each expectation's verdict; `unmeasured` is "fail" (default) or "skip"."""
    out = []
    for e in expectations:
        value = measured.values.get(e.metric)
        if value is None:
            why = measured.notes.get(e.metric) or _WHY_MISSING.get(e.metric.split(".", 1)[0],
                                                                   "the capture has no data for it")
            status = "skipped" if unmeasured == "skip" else "fail"
            out.append(Outcome(e.text, e.metric, status, None, "not measured", f"{e.metric} not measured: {why}"))
            continue
        ok = _OPS[e.op](float(value), e.value)
        shown = _show(float(value), e)
        wanted = _show(e.value, e)
        out.append(Outcome(e.text, e.metric, "pass" if ok else "fail", float(value), shown,
                           f"{e.metric} = {shown} (expected {e.op} {wanted})"))
    return out

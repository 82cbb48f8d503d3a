"""A history's runs as numbers over time (pure: captures in, plain rows out), for the report."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..analyze.candidates import candidate_set
from ..analyze.latency import connect_breakdown
from ..analyze.streams import pair_rtt
from ..analyze.voice import voice_summary
from ..capture import load
from ..errors import InputError
from ..matrix.result import load_matrix
from .history import History, RunRecord


@dataclass
class TrendPoint:
    record: RunRecord
    connect_ms: float | None  # offer sent to media/channel ready (analyze.latency's total)
    rtt_ms: float | None  # median ICE RTT of the selected pair
    v2v_ms: float | None  # median voice-to-voice latency, with --turns captures
    candidates: int | None  # distinct candidates of the answer
    candidate_set: str  # transports, families and ports, as one comparable string
    codecs: list[str] = field(default_factory=list)  # answered media codecs, "audio opus" ...
    matrix_accepted: int | None = None
    problem: str = ""  # why the run's capture could not be read


def _median(values: list[float]) -> float | None:
    values = sorted(values)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def trend_point(history: History, record: RunRecord) -> TrendPoint:
    try:
        capture = load(history.directory / record.capture)
    except (InputError, OSError) as exc:
        return TrendPoint(record, None, None, None, None, "", problem=str(exc))
    total = connect_breakdown(capture).total
    rtt = _median([seconds for _, seconds in pair_rtt(capture)])
    v2v = voice_summary(capture).v2v.median
    answer = capture.answer
    cset = candidate_set(answer) if answer is not None else None
    shown = "" if cset is None else "; ".join(
        t + ("" if cset.ports_ephemeral else " " + ",".join(map(str, cset.ports_by_transport.get(t, []))))
        for t in cset.transports) + f" ({', '.join(cset.families)})"
    codecs = [] if answer is None else [f"{m.kind} {c.name}" for m in answer.media if not m.rejected
                                        for c in m.media_codecs]
    accepted = None
    if record.matrix:
        try:
            accepted = len(load_matrix(history.directory / record.matrix).accepted())
        except InputError:
            accepted = None
    return TrendPoint(record, None if total is None else total * 1000, None if rtt is None else rtt * 1000,
                      v2v, None if cset is None else cset.count, shown, list(dict.fromkeys(codecs)), accepted)


def trends(history: History) -> list[TrendPoint]:
    return [trend_point(history, record) for record in history.records()]

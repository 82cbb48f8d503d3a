"""What the network impairment did, next to what the probe measured: the truth table of one capture.

From the capture's `impairment` events (rtcprobe.net.record): the intervals in which a condition
held (each `set` until the next one, or the capture's end), and per direction what the network did
(the `summary`, or the latest `counts` when the capture was cut). Next to it, from the stats, what
the probe measured: "down" (what the probe receives) against its own inbound-rtp `packetsLost`, "up"
(what it sends) against the far end's receiver reports (remote-inbound-rtp `packetsLost`), per SSRC
where the summary lists the RTP sequence numbers it dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..capture import Capture
from ..capture import events as ev
from .evidence import counter, last_reports

UP, DOWN = "up", "down"
#: Fields of a `set` event's direction that change what the network does (burst shapes loss, and
#: queue_bytes is rate's queue: neither does anything alone).
EFFECTS = ("loss_pct", "rtploss_pct", "delay_ms", "jitter_ms", "reorder_pct", "duplicate_pct", "rate_bps")
WHO = {UP: "probe sends", DOWN: "probe receives"}
#: What each direction's loss is measured against, and by whom.
MEASURED_BY = {UP: "per the far end's receiver reports (remote-inbound-rtp)", DOWN: "here (inbound-rtp)"}
NOTE = ("packetsLost leaves out drops before a stream's first packet arrived and after the last stats "
        "sample, counts a packet repaired by RTX as received, and includes loss elsewhere on the path "
        "(the far end's own network); the far end's reports lag by an RTCP interval. The truth counts "
        "every RTP datagram this network dropped, retransmissions included.")


@dataclass(frozen=True)
class ImpairedInterval:
    """[start, end) on the capture clock in which `spec` held and did something."""

    start: float
    end: float
    spec: str
    up: dict[str, float] = field(default_factory=dict)  # the set event's knobs (loss_pct, delay_ms...)
    down: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class SsrcTruth:
    """One RTP stream: packets the network dropped (truth) and packets lost (as measured)."""

    ssrc: int
    kind: str | None
    dropped: int | None  # None: the capture did not list this direction's RTP drops
    lost: int | None  # None: no stats report of this SSRC


@dataclass(frozen=True)
class DirectionTruth:
    """What one direction's network did (cumulative), and the loss measured on it."""

    direction: str
    packets: int
    dropped_loss: int  # by the random loss models (loss=, burst=, rtploss=)
    dropped_queue: int  # by the full rate queue
    rtp_dropped: int
    delayed: int
    reordered: int
    duplicated: int
    final: bool  # from the summary at the end (False: the last running counts of a cut capture)
    drops_truncated: bool = False
    measured_lost: int | None = None  # the sum of packetsLost over this direction's streams
    measured_by: str = ""
    ssrcs: list[SsrcTruth] = field(default_factory=list)

    @property
    def dropped(self) -> int:
        return self.dropped_loss + self.dropped_queue

    @property
    def did(self) -> str:
        """One line of what the network did, as the terminal and the target's log show it."""
        return (f"{self.packets} datagrams, dropped {self.dropped} ({self.dropped_loss} random, "
                f"{self.dropped_queue} queue; {self.rtp_dropped} RTP), delayed {self.delayed}, "
                f"reordered {self.reordered}, duplicated {self.duplicated}"
                + ("" if self.final else " (running counts: the capture has no summary)"))

    @property
    def measured(self) -> str:
        if self.measured_lost is None:
            return "no packetsLost measured"
        return f"{self.measured_lost} packets lost {self.measured_by}"


@dataclass(frozen=True)
class ImpairmentTruth:
    seed: int | None
    intervals: list[ImpairedInterval]
    directions: list[DirectionTruth]
    changes: list[tuple[float, str]]  # (t, spec) of every set event, "none" included
    note: str = NOTE


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def _knobs(direction: Any) -> dict[str, float]:
    if not isinstance(direction, dict):
        return {}
    return {name: _number(direction.get(name)) for name in EFFECTS if _number(direction.get(name))}


def direction_truth(name: str, counts: Any, final: bool) -> DirectionTruth | None:
    """One direction of a `counts` or `summary` event; None when it has none."""
    if not isinstance(counts, dict):
        return None
    return DirectionTruth(name, _int(counts.get("packets")), _int(counts.get("dropped_loss")),
                          _int(counts.get("dropped_queue")), _int(counts.get("rtp_dropped")),
                          _int(counts.get("delayed")), _int(counts.get("reordered")),
                          _int(counts.get("duplicated")), final, counts.get("drops_truncated") is True)


def rtp_drops(counts: Any) -> dict[int, int] | None:
    """SSRC -> RTP packets dropped, from a summary direction's `rtp_drops`; None without it."""
    listed = counts.get("rtp_drops") if isinstance(counts, dict) else None
    if not isinstance(listed, dict):
        return None
    out: dict[int, int] = {}
    for key, seqs in listed.items():
        if str(key).isdigit() and isinstance(seqs, list):
            out[int(key)] = len(seqs)
    return out


def _measured(capture: Capture, name: str) -> dict[int, tuple[str | None, int | None]]:
    """SSRC -> (kind, packetsLost) of the streams in this direction, from their last stats."""
    kind_of = "remote-inbound-rtp" if name == UP else "inbound-rtp"
    out: dict[int, tuple[str | None, int | None]] = {}
    for report in last_reports(capture, kind_of):
        ssrc = report.get("ssrc")
        if _is_int(ssrc):
            kind = report.get("kind")
            out[ssrc] = (kind if isinstance(kind, str) else None, counter(report, "packetsLost"))
    for report in last_reports(capture, "outbound-rtp" if name == UP else "inbound-rtp"):
        rtx, kind = report.get("rtxSsrc"), report.get("kind")
        if _is_int(rtx) and rtx not in out:  # its drops are retransmissions: no packetsLost of its own
            out[rtx] = (f"{kind} RTX" if isinstance(kind, str) else "RTX", None)
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _intervals(sets: list[dict[str, Any]], end: float) -> list[ImpairedInterval]:
    out = []
    for number, event in enumerate(sets):
        start = _number(event.get("t"))
        stop = _number(sets[number + 1].get("t")) if number + 1 < len(sets) else max(end, start)
        up, down = _knobs(event.get(UP)), _knobs(event.get(DOWN))
        if (up or down) and stop > start:
            out.append(ImpairedInterval(start, stop, str(event.get("spec") or ""), up, down))
    return out


def impairment_truth(capture: Capture) -> ImpairmentTruth | None:
    """The impaired intervals and the truth next to the measurement; None without impairment events."""
    events = capture.of(ev.IMPAIRMENT)
    if not events:
        return None
    sets = sorted((e for e in events if e.get("action") == "set"), key=lambda e: _number(e.get("t")))
    summary = next((e for e in reversed(events) if e.get("action") == "summary"), None)
    latest = summary or next((e for e in reversed(events) if e.get("action") == "counts"), None)
    directions = []
    for name in (UP, DOWN):
        truth = direction_truth(name, (latest or {}).get(name), final=summary is not None)
        if truth is None:
            continue
        measured = _measured(capture, name)
        dropped = rtp_drops((summary or {}).get(name))
        ssrcs = sorted(set(measured) | set(dropped or {}))
        rows = [SsrcTruth(ssrc, measured.get(ssrc, (None, None))[0],
                          None if dropped is None else dropped.get(ssrc, 0), measured.get(ssrc, (None, None))[1])
                for ssrc in ssrcs]
        lost = [row.lost for row in rows if row.lost is not None]
        directions.append(replace(truth, measured_lost=sum(lost) if lost else None, measured_by=MEASURED_BY[name],
                                  ssrcs=rows))
    seeds = [e.get("seed") for e in sets if isinstance(e.get("seed"), int)]
    return ImpairmentTruth(seeds[0] if seeds else None, _intervals(sets, capture.duration), directions,
                           [(_number(e.get("t")), str(e.get("spec") or "")) for e in sets])

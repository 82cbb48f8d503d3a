"""References for the truth table, computed from what crossed the impairment (tests/chromium_far_end.py
SeamLog), and the probe's and Chromium's values beside them. Pure functions over one `Truth`.

The impairment's truth, direction by direction ("down": Chromium -> probe, "up": probe -> Chromium):

- packets lost: drops on the media SSRC between the first and the highest packet the receiver got
  (RFC 3550 §6.4.1), from the seam's record, checked equal to the impairment's own `rtp_drops`;
- fraction lost, per RR interval: for each report block about a media SSRC, with the interval
  bounded by the block's own extended highest sequence number and the one before,
  floor(256 × drops in the interval / expected in the interval) (RFC 3550 A.3); cumulative lost too;
- jitter: the RFC 3550 A.8 estimator on the seam's release times and the packets' RTP timestamps,
  updated when the timestamp changes (as libwebrtc and the probe do: a video frame's packets share
  one timestamp and leave in a burst), in-order packets only;
- time held: the mean time RTCP datagrams spent in the impairment, per direction (delay, jitter,
  the rate queue and the event loop's lateness: what the round trip actually crossed).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from browser import stats_of_type
from chromium_far_end import SeamDatagram, Truth
from relay import FROM_OFFERER

from rtcprobe.net.spec import DOWN, UP, parse_spec
from rtcprobe.probe.streams import round_trip_time

KINDS = ("audio", "video")
CLOCK_RATES = {"audio": 48000, "video": 90000}


def extended(records: list[SeamDatagram]) -> list[int]:
    """RFC 3550 A.1 extended sequence numbers, in arrival order (cycles counted from the first)."""
    out: list[int] = []
    high: int | None = None
    cycles = 0
    for r in records:
        if high is None:
            high = r.seq
        elif (r.seq - high) & 0xFFFF < 0x8000:
            if r.seq < high:
                cycles += 0x10000
            high = r.seq
        elif r.seq > high:  # late, from before a wrap
            out.append(cycles - 0x10000 + r.seq)
            continue
        out.append(cycles + r.seq)
    return out


@dataclass
class StreamTruth:
    """One media SSRC in one direction, as the impairment saw it."""

    ssrc: int
    seqs: list[int]  # extended, per datagram offered
    dropped: set[int]  # extended sequence numbers never delivered
    received: list[int]  # extended, delivered to the receiver (up: and forwarded by the relay)
    records: list[SeamDatagram] = field(repr=False, default_factory=list)

    def lost(self, upto: int | None = None) -> int:
        """RFC 3550 cumulative loss: drops from the first received up to `upto` (default: the highest)."""
        if not self.received:
            return 0
        low, high = min(self.received), max(self.received) if upto is None else upto
        return sum(1 for s in self.dropped if low <= s <= high)

    def interval_fraction(self, prior_highest: int, highest: int, scale: int = 256) -> int:
        """RFC 3550 A.3 fraction lost over (prior_highest, highest]: floor(scale x lost / expected)."""
        expected = highest - prior_highest
        lost = sum(1 for s in self.dropped if prior_highest < s <= highest)
        return scale * lost // expected if expected > 0 and lost > 0 else 0

    def jitter(self, rate: int, when: str = "out") -> float:
        """RFC 3550 A.8 on the seam's release (`out`) or entry (`in`) times, seconds."""
        jitter, last = 0.0, None
        high = -1
        for seq, r in sorted(((s, r) for s, r in zip(self.seqs, self.records, strict=True) if r.t_out),
                             key=lambda p: p[1].t_out[0] if when == "out" else p[1].t_in):
            if seq <= high:
                continue
            high = seq
            arrival = (r.t_out[0] if when == "out" else r.t_in) * rate
            if last is not None:
                if r.ts == last[1]:
                    continue
                step = (r.ts - last[1]) & 0xFFFFFFFF
                step -= 0x100000000 if step >= 0x80000000 else 0
                jitter += (abs(arrival - last[0] - step) - jitter) / 16
            last = (arrival, r.ts)
        return jitter / rate


def stream_truth(truth: Truth, direction: str, ssrc: int) -> StreamTruth:
    """What the impairment did to one SSRC; `received` for up counts only what the relay forwarded
    (the relay froze RTP at the quiet point: what it held never reached Chromium)."""
    assert truth.seam is not None
    records = truth.seam.rtp[direction].get(ssrc, [])
    seqs = extended(records)
    dropped = {s for s, r in zip(seqs, records, strict=True) if not r.t_out}
    delivered = [s for s, r in zip(seqs, records, strict=True) if r.t_out]
    if direction == UP:  # the relay's packets on this SSRC are the delivered ones, in order
        fates = [p.fate for p in truth.relay.streams[FROM_OFFERER].get(ssrc, _Empty()).packets]
        delivered = [s for s, fate in zip(delivered, fates, strict=False) if fate == "forwarded"]
    return StreamTruth(ssrc, seqs, dropped, delivered, records)


class _Empty:
    packets: list[Any] = []


def impairment_drops(truth: Truth, direction: str, ssrc: int) -> list[int]:
    """The impairment's own record of the RTP it dropped on `ssrc` (16-bit sequence numbers)."""
    return truth.impairment_summary()[direction].get("rtp_drops", {}).get(str(ssrc), [])


def report_blocks(truth: Truth, direction: str, ssrc: int) -> list[dict[str, Any]]:
    """Report blocks about `ssrc` in SR/RR packets the probe sent (`sent`) or received, in order."""
    return [{**b, "t": e["t"]} for e in truth.capture.of("rtcp") if e["direction"] == direction
            for b in e.get("reports", []) if b["ssrc"] == ssrc]


def interval_known(truth: Truth, blocks: list[dict[str, Any]], hold: float) -> list[bool]:
    """For blocks the probe received: whether any RTCP from Chromium was dropped since the block
    before (entering the impairment up to `hold` seconds before that one arrived). Each of its
    reports closes an interval at the sender (RFC 3550 A.3: a report's fraction is since the
    sender's previous report, and libwebrtc puts a receiver report in every compound, NACKs'
    too), so after a dropped one the next interval starts where nobody here saw: not judged."""
    assert truth.seam is not None
    dropped = sorted(r.t_in - truth.seam.clock_offset for r in truth.seam.rtcp[DOWN] if not r.t_out)
    known, since = [], float("-inf")
    for block in blocks:
        known.append(not any(since < t <= block["t"] for t in dropped))
        since = block["t"] - hold
    return known


def fraction_errors(stream: StreamTruth, blocks: list[dict[str, Any]], scale: int = 256,
                    known: list[bool] | None = None) -> tuple[list[int], list[int]]:
    """Per report block: (fraction_lost - truth) in 1/256, (packets_lost - truth) in packets.
    The first interval starts before the first packet received. `scale`: RFC 3550 A.3 shifts
    by 8 (256, as aiortc); libwebrtc computes 255 x lost / expected ("255 is 100% loss",
    receive_statistics_impl.cc), so a Chromium block is 1/256 below RFC 3550 on some intervals."""
    if not stream.received:
        return [], []
    prior = min(stream.received) - 1
    fractions, cumulative = [], []
    for index, block in enumerate(blocks):
        highest = _in_seam_space(stream, block["highest_seq"])
        if highest is None:
            continue
        if known is None or known[index]:
            fractions.append(block["fraction_lost"] - stream.interval_fraction(prior, highest, scale))
        cumulative.append(block["packets_lost"] - stream.lost(highest))
        prior = highest
    return fractions, cumulative


def _in_seam_space(stream: StreamTruth, highest: int) -> int | None:
    """A block's extended highest sequence number in the seam's extended space: the received
    packet with the same 16 bits (the two ends count cycles from different first packets)."""
    matches = [s for s in stream.received if s & 0xFFFF == highest & 0xFFFF]
    return matches[-1] if matches else None


def held_ms(truth: Truth, direction: str, pts: tuple[int, ...] = (200, 201), ssrc: int | None = None) -> float | None:
    """Mean time the RTCP datagrams that start with one of `pts` (from `ssrc`) spent in the
    impairment, ms: up, the probe's SRs; down, Chromium's reports (what an RTT sample crossed)."""
    assert truth.seam is not None
    held = [r.t_out[0] - r.t_in for r in truth.seam.rtcp[direction]
            if r.t_out and r.pt in pts and (ssrc is None or r.ssrc == ssrc)]
    return statistics.fmean(held) * 1000 if held else None


def feedback_dropped(truth: Truth, direction: str, pt: int) -> int:
    """RTCP datagrams the impairment dropped that may hold feedback of type `pt` (205 NACK,
    206 PLI; FMT 1). Up: those that start with it (aiortc sends each NACK and PLI alone): exact.
    Down: every dropped report-led compound (libwebrtc puts feedback behind an SR or RR, and
    SRTCP hides what follows the first header), and every compound the relay held after the
    quiet point: an upper bound, exact when it is 0."""
    assert truth.seam is not None
    if direction == UP:
        return sum(1 for r in truth.seam.rtcp[UP] if not r.t_out and r.pt == pt and r.fmt == 1)
    return sum(1 for r in truth.seam.rtcp[DOWN] if not r.t_out and r.pt in (200, 201)) + truth.held_rtcp


def rtt_samples_ms(truth: Truth, ssrc: int) -> list[float]:
    """The probe's RTT samples for a sent SSRC, ms (see rtt_pairs)."""
    return [sample for sample, _ in rtt_pairs(truth, ssrc)]


def rtt_pairs(truth: Truth, ssrc: int) -> list[tuple[float, float | None]]:
    """Per RTT sample of the probe, (the sample, the time its SR and the report echoing it spent
    in the impairment), ms. Samples are re-derived from the capture (RFC 3550 §6.4.1 with the
    probe's own SR send times, rtcprobe.probe.streams.round_trip_time): every report block
    echoing one of its SRs; the W3C mean (totalRoundTripTime / measurements) is their mean. The
    SR's datagram is the first SR from `ssrc` to enter the impairment after the probe sent it,
    the report's the last RTCP datagram the impairment delivered before the probe read it."""
    sent: dict[int, list[float]] = {}
    pairs: list[tuple[float, float | None]] = []
    for e in truth.capture.of("rtcp"):
        if e["direction"] == "sent" and e["packet_type"] == "SR" and e["sender_ssrc"] == ssrc and "lsr" in e:
            sent.setdefault(e["lsr"], []).append(e["t"])
        elif e["direction"] == "received":
            for b in e.get("reports", []):
                if b["ssrc"] == ssrc and b.get("lsr"):
                    rtt = round_trip_time(sent.get(b["lsr"], []), b["dlsr"], e["t"])
                    if rtt is not None:
                        sr_sent = e["t"] - b["dlsr"] / 65536 - rtt
                        pairs.append((rtt * 1000, _wire_ms(truth, ssrc, sr_sent, e["t"])))
    return pairs


def _wire_ms(truth: Truth, ssrc: int, sr_sent: float, report_read: float) -> float | None:
    if truth.seam is None:
        return None
    offset = truth.seam.clock_offset
    sr = next((r for r in truth.seam.rtcp[UP] if r.pt == 200 and r.ssrc == ssrc and r.t_out
               and r.t_in - offset >= sr_sent - 0.001), None)
    # the compound that carried the block starts with an SR or RR (SRTCP leaves that header clear); a
    # transport-cc or PLI packet released between it and the read, out of a queue that had shrunk, is not it
    report = max((r for r in truth.seam.rtcp[DOWN] if r.t_out and r.pt in (200, 201)
                  and r.t_out[0] - offset <= report_read + 0.0005),
                 key=lambda r: r.t_out[0], default=None)
    if sr is None or report is None:
        return None
    return (sr.t_out[0] - sr.t_in + report.t_out[0] - report.t_in) * 1000


def mean_rtt_ms(report: dict[str, Any]) -> float | None:
    """W3C remote-inbound-rtp: the mean of every RTT measurement, ms."""
    count = report.get("roundTripTimeMeasurements") or 0
    return report["totalRoundTripTime"] / count * 1000 if count else None


@dataclass
class Point:
    """Every figure of one grid point: measured, the impairment's truth and Chromium's."""

    spec: str
    values: dict[str, Any] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def measure(truth: Truth) -> Point:
    """The table's figures for one session (RTT and bitrate references are added by the caller)."""
    point = Point(truth.impair or "none")
    spec, _ = parse_spec(truth.impair or "none")
    hold = spec.down.delay + spec.down.jitter + 0.25  # what a datagram may spend in the impairment, and more
    v = point.values
    lost_err, chrome_lost_err, frac_err, cum_err, rr_count, rr_blocks = 0, 0, 0, 0, 0, 0
    for kind in KINDS:
        inbound, outbound = truth.probe("inbound-rtp", kind), truth.probe("outbound-rtp", kind)
        chrome_in, chrome_out = truth.browser("inbound-rtp", kind), truth.browser("outbound-rtp", kind)
        down, up = stream_truth(truth, DOWN, inbound["ssrc"]), stream_truth(truth, UP, outbound["ssrc"])
        for direction, stream in ((DOWN, down), (UP, up)):  # the seam's record = the impairment's own count
            recorded = sorted(impairment_drops(truth, direction, stream.ssrc))
            if recorded != sorted(s & 0xFFFF for s in stream.dropped):
                point.failures.append(f"{kind} {direction}: the seam's drops differ from the impairment's rtp_drops")
        v[f"{kind} lost down"] = (inbound["packetsLost"], down.lost(), len(down.dropped))
        v[f"{kind} lost up"] = (chrome_in["packetsLost"], up.lost(), len(up.dropped))
        lost_err += abs(inbound["packetsLost"] - down.lost())
        chrome_lost_err += abs(chrome_in["packetsLost"] - up.lost())
        for direction, stream, scale in (("sent", down, 256), ("received", up, 255)):  # ours; Chromium's
            blocks = report_blocks(truth, direction, stream.ssrc)
            known = interval_known(truth, blocks, hold) if direction == "received" else None
            fractions, cumulative = fraction_errors(stream, blocks, scale, known)
            frac_err = max([frac_err, *map(abs, fractions)])
            cum_err = max([cum_err, *map(abs, cumulative)])
            if any(fractions) or any(cumulative):
                v.setdefault("block errors", []).append((kind, direction, fractions, cumulative))
            rr_count += len(fractions)
            rr_blocks += len(cumulative)
        rate = CLOCK_RATES[kind]
        v[f"{kind} jitter ms"] = (_ms(inbound.get("jitter")), down.jitter(rate) * 1000, down.jitter(rate, "in") * 1000)
        v[f"{kind} jitter up ms"] = (_ms(chrome_in.get("jitter")), up.jitter(rate) * 1000)
        v[f"{kind} nack"] = (inbound["nackCount"], chrome_out.get("nackCount"), outbound["nackCount"],
                             chrome_in.get("nackCount"))  # probe sent, Chromium received, and back
        if kind == "video":
            v["video pli"] = (inbound.get("pliCount"), chrome_out.get("pliCount"), outbound.get("pliCount"),
                              chrome_in.get("pliCount"))
            remote = next((r for r in truth.capture.last_stats() if r["type"] == "remote-inbound-rtp"
                           and r.get("kind") == "video"), {})
            chrome_remote = next(iter(stats_of_type(truth.chromium, "remote-inbound-rtp", "video")), {})
            pairs = rtt_pairs(truth, outbound["ssrc"])
            samples = [sample for sample, _ in pairs]
            v["rtt ms"] = (mean_rtt_ms(remote), mean_rtt_ms(chrome_remote),
                           statistics.median(samples) if samples else None, max(samples, default=None), len(samples))
            beyond = [sample - wire for sample, wire in pairs if wire is not None]  # the RTT less the wire's part
            v["rtt beyond wire ms"] = (statistics.median(beyond) if beyond else None,
                                       statistics.median([w for _, w in pairs if w is not None]) if beyond else None)
            v["rtt beyond wire samples"] = beyond
            v["held ms"] = (held_ms(truth, UP, (200,), outbound["ssrc"]), held_ms(truth, DOWN))
            v["target kbit"] = (chrome_out.get("targetBitrate") or 0) / 1000
    v["lost err"], v["chromium lost err"] = lost_err, chrome_lost_err
    v["fraction err"], v["cumulative err"], v["rr intervals"] = frac_err, cum_err, (rr_count, rr_blocks)
    nacks = [v[f"{kind} nack"] for kind in KINDS]  # NACK: the dropped ones never arrived
    v["nack"] = (sum(n[0] for n in nacks), feedback_dropped(truth, UP, 205), sum(n[1] or 0 for n in nacks),
                 sum(n[3] or 0 for n in nacks), feedback_dropped(truth, DOWN, 205), sum(n[2] for n in nacks))
    pli = v["video pli"]  # probe sent, Chromium received, probe received, Chromium sent
    v["pli"] = (pli[0] or 0, feedback_dropped(truth, UP, 206), pli[1] or 0,
                pli[3] or 0, feedback_dropped(truth, DOWN, 206), pli[2] or 0)
    summary = truth.impairment_summary()
    v["late ms"] = (summary[UP].get("late_mean_ms", 0.0), summary[DOWN].get("late_mean_ms", 0.0))
    v["queue drops"] = (summary[UP].get("dropped_queue", 0), summary[DOWN].get("dropped_queue", 0))
    return point


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000

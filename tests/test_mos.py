"""The E-model MOS estimate (rtcprobe.analyze.mos): the formula against numbers worked by hand, its
clamps, and per-stream quality rows against the raw W3C reports of real browser dumps."""

from __future__ import annotations

from pathlib import Path
from statistics import median

import pytest

from rtcprobe.analyze.mos import direction_mos, estimate_mos, r_to_mos, stream_quality
from rtcprobe.importers import load_captures

DATA = Path(__file__).parent / "data"


def test_low_latency_branch_worked_by_hand() -> None:
    # RTT 100 ms, jitter 5 ms, loss 1 %: Le = 100 + 10 + 10 = 120 ms; R = 93.2 - 120/40 - 2.5 = 87.7
    # MOS = 1 + 0.035 * 87.7 + 7e-6 * 87.7 * 27.7 * 12.3 = 1 + 3.0695 + 0.2091612... = 4.2786612
    e = estimate_mos(0.100, 0.005, 0.01)
    assert e.effective_latency_ms == pytest.approx(120.0)
    assert e.r_factor == pytest.approx(87.7)
    assert e.mos == pytest.approx(4.2786612, abs=1e-6)


def test_high_latency_branch_worked_by_hand() -> None:
    # RTT 300 ms, jitter 20 ms: Le = 350 ms >= 160: R = 93.2 - (350 - 120)/10 = 70.2
    # MOS = 1 + 2.457 + 7e-6 * 70.2 * 10.2 * 29.8 = 3.4570 + 0.1493658... = 3.6063658
    e = estimate_mos(0.300, 0.020, 0.0)
    assert e.r_factor == pytest.approx(70.2)
    assert e.mos == pytest.approx(3.6063658, abs=1e-6)


def test_the_two_latency_branches_meet_at_160_ms() -> None:
    below = estimate_mos(0.150 - 1e-9, 0.0, 0.0)  # Le just under 160 ms
    at = estimate_mos(0.150, 0.0, 0.0)  # Le = 160 ms exactly: the second branch
    assert below.r_factor == pytest.approx(89.2) and at.r_factor == pytest.approx(89.2)


def test_clamps_of_g107() -> None:
    assert estimate_mos(0.0, 0.0, 1.0).mos == 1.0  # R = 93 - 250 -> 0 -> MOS 1
    assert estimate_mos(0.0, 0.0, 1.0).r_factor == 0.0
    assert r_to_mos(100.0) == 4.5 and r_to_mos(150.0) == 4.5
    assert r_to_mos(5.0) == 1.0  # the cubic gives 0.992 here; G.107's scale stops at 1
    # the best a narrow-band call gets: 1 + 3.262 + 7e-6 * 93.2 * 33.2 * 6.8 = 4.262 + 0.1472858 = 4.4092858
    assert r_to_mos(93.2) == pytest.approx(4.4092858, abs=1e-6)
    assert estimate_mos(-1.0, -1.0, -0.5).loss_pct == 0.0  # nonsense inputs are floored, not extrapolated


def _raw_last(capture, type_: str, ssrc: int) -> dict:
    return next(r for s in reversed(capture.stats_samples) for r in s["reports"]
                if r.get("type") == type_ and r.get("ssrc") == ssrc)


def test_stream_rows_of_a_chromium_dump_match_its_reports() -> None:
    """Received audio of Chromium's own webrtc-internals dump: loss from its counters, RTT from the
    selected pair (inbound streams have no RTCP round-trip time), MOS from those numbers."""
    (capture, *_) = load_captures(DATA / "import-chromium-webrtc_internals_dump.gz", pc="9-1")
    rows = {(q.direction, q.kind): q for q in stream_quality(capture)}
    audio = rows[("received", "audio")]
    raw = _raw_last(capture, "inbound-rtp", audio.ssrc)
    assert audio.packets_lost == raw["packetsLost"]
    assert audio.loss_fraction == raw["packetsLost"] / (raw["packetsReceived"] + raw["packetsLost"])
    assert audio.codec == "audio/opus"
    pair_rtts = []
    for sample in capture.stats_samples:
        reports = {r["id"]: r for r in sample["reports"]}
        for t in (r for r in reports.values() if r["type"] == "transport"):
            pair = reports.get(t.get("selectedCandidatePairId"))
            if pair and "currentRoundTripTime" in pair:
                pair_rtts.append(pair["currentRoundTripTime"])
    assert audio.rtt_source == "candidate-pair" and audio.rtt_s == median(pair_rtts)
    assert audio.mos is not None and audio.mos.mos == estimate_mos(audio.rtt_s, audio.jitter_s, audio.loss_fraction).mos
    sent = rows[("sent", "audio")]
    remote = _raw_last(capture, "remote-inbound-rtp", sent.ssrc)  # the far end's view of what we sent
    assert sent.packets_lost == remote["packetsLost"] and sent.rtt_source == "stream"


def test_direction_mos_is_the_audio_streams_else_video() -> None:
    (chromium, *_) = load_captures(DATA / "import-chromium-webrtc_internals_dump.gz", pc="9-1")
    for d in direction_mos(stream_quality(chromium)):
        assert d.estimate is not None and d.stream is not None and " audio " in d.stream
    # Jitsi (rtcstats-server dump): the received audio stream never got a packet, so video rates the direction
    (jitsi,) = load_captures(DATA / "realworld" / "dumps" / "jitsi-chrome-relay.gz")
    qualities = stream_quality(jitsi)
    received = next(d for d in direction_mos(qualities) if d.direction == "received")
    assert received.estimate is not None and "video" in received.note
    worst = min((q for q in qualities if q.direction == "received" and q.mos), key=lambda q: q.mos.mos)
    assert received.estimate == worst.mos

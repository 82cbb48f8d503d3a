"""Per-interval stream series from stats samples (rtcprobe.analyze.streams)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtcprobe.analyze.streams import stream_series
from rtcprobe.capture.model import Capture
from rtcprobe.importers import load_captures


def _sample(t: float, received: int, retransmitted: int, lost: int) -> dict:
    return {"event": "stats", "t": t, "reports": [{
        "id": "IT01V1", "type": "inbound-rtp", "ssrc": 1234, "kind": "video", "mid": "1",
        "timestamp": t, "bytesReceived": received * 1000, "packetsReceived": received,
        "retransmittedPacketsReceived": retransmitted, "packetsLost": lost}]}


def test_interval_loss_is_counted_in_the_media_sequence_space() -> None:
    """W3C packetsReceived includes retransmissions: 100 packets arrived in the interval, 10 of them
    RTX answers to the 10 lost, so 90 of 100 media packets came: 10 % loss, not 10/110."""
    capture = Capture("synthetic.jsonl", {"event": "header", "t": 0.0},
                      [_sample(1.0, 50, 0, 0), _sample(2.0, 150, 10, 10)])
    (series,) = stream_series(capture)
    assert series.direction == "received" and series.points[-1].loss_fraction == 0.1
    assert series.points[-1].packets == 150 and series.points[-1].packets_lost == 10


@pytest.mark.parametrize("dump", ["chromium-renegotiation-trickle.json.gz", "rtcstats-clienttest.json.gz"])
def test_real_dumps_end_each_stream_on_its_last_sampled_counters(dump: str) -> None:
    """On Chromium's own dumps (tests/data/realworld): a stream's last point carries the packet
    counter of the last sample that holds it, however soon after the previous one it came."""
    for capture in load_captures(Path(__file__).parent / "data" / "realworld" / "dumps" / dump):
        last: dict[int, float] = {}
        for sample in capture.stats_samples:
            for r in sample.get("reports", []):
                name = {"outbound-rtp": "packetsSent", "inbound-rtp": "packetsReceived"}.get(r.get("type"))
                if name and isinstance(r.get("ssrc"), int) and isinstance(r.get(name), int | float):
                    last[r["ssrc"]] = r[name]
        series = stream_series(capture)
        assert {s.ssrc for s in series} <= set(last) or not series
        for s in series:
            if s.points and s.points[-1].packets is not None:
                assert s.points[-1].packets == last[s.ssrc], (dump, s.label)

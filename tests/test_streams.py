"""Per-interval stream series from stats samples (rtcprobe.analyze.streams)."""

from __future__ import annotations

from rtcprobe.analyze.streams import stream_series
from rtcprobe.capture.model import Capture


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

"""The live view's status stream: it ticks while the session waits (an HTTP answer 3 s late) and
carries phase, time left, bitrate, loss and RTT as they arrive. The stream is tested, not the pixels."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from rich.console import Console

from rtcprobe.commands.probe import _status_table
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.probe.status import ProbeStatus
from rtcprobe.server import ServerConfig, run_server


def test_rates_and_losses_from_two_snapshots() -> None:
    status = ProbeStatus()
    first = [{"type": "outbound-rtp", "ssrc": 1, "bytesSent": 1000, "packetsSent": 10},
             {"type": "inbound-rtp", "ssrc": 2, "bytesReceived": 500, "packetsReceived": 9, "packetsLost": 1}]
    status.update_from_stats(first, 1.0)
    assert status.bitrate_sent is None  # one snapshot is no rate
    assert status.loss_received == pytest.approx(0.1)
    second = [{"type": "outbound-rtp", "ssrc": 1, "bytesSent": 3000, "packetsSent": 30},
              {"type": "inbound-rtp", "ssrc": 2, "bytesReceived": 1500, "packetsReceived": 27, "packetsLost": 3},
              {"type": "remote-inbound-rtp", "ssrc": 1, "packetsLost": 3, "roundTripTime": 0.02}]
    status.update_from_stats(second, 1.5)
    assert status.bitrate_sent == pytest.approx(2000 * 8 / 0.5)
    assert status.bitrate_received == pytest.approx(1000 * 8 / 0.5)
    assert status.loss_received == pytest.approx(3 / 30)
    assert status.loss_sent == pytest.approx(3 / 30)


@pytest.mark.slow
async def test_status_ticks_while_the_answer_is_late(tmp_path: Path) -> None:
    runner, base = await run_server(ServerConfig(port=0, http_delay_ms=3000))
    seen: list[ProbeStatus] = []
    try:
        options = ProbeOptions(target=base + "/whip", output=tmp_path / "c.jsonl", protocol="whip",
                               duration=3, stats_interval=0.5)
        result = await ProbeSession(options, lambda s: seen.append(copy.copy(s))).run()
    finally:
        await runner.cleanup()
    assert result.ok, result.diagnosis
    waiting = [s for s in seen if s.phase == "signaling"]
    assert len(waiting) >= 3, [(s.phase, s.elapsed) for s in seen]  # the phase's start and >= 2 ticks
    elapsed = [s.elapsed for s in waiting]
    assert elapsed == sorted(elapsed) and elapsed[-1] - elapsed[0] >= 2.0
    left = [s.time_left for s in waiting]
    assert all(t is not None for t in left) and left == sorted(left, reverse=True)
    assert left[0] - left[-1] == pytest.approx(elapsed[-1] - elapsed[0])
    running = [s for s in seen if s.phase == "running"]
    assert any(s.bitrate_sent for s in running) and any(s.bitrate_received for s in running)
    assert any(s.round_trip_time for s in running)
    assert any(s.loss_received is not None for s in running)
    assert all(s.time_left is not None for s in running)
    assert seen[-1].phase == "closing" and seen[-1].reason == "completed"  # the teardown's DELETE ticks too

    console = Console(width=120, record=True, color_system=None)
    console.print(_status_table(running[-1], options.target))
    shown = console.export_text()
    for row in ("phase", "s left", "bitrate", "kbit/s", "loss", "RTT"):
        assert row in shown, shown

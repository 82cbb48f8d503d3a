"""`capture --impair` on real loopback sessions against the reference target (aiortc both sides):
the seam carries every datagram, the capture records what the network did, the same seed gives the
same drops, each knob shows in its own counters, a schedule applies at its times, and nothing leaks
into other peer connections of the process."""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiortc import RTCPeerConnection

from rtcprobe.capture import Capture, load
from rtcprobe.net.seam import Network, _ImpairedTransport
from rtcprobe.net.spec import parse_spec
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.server import ServerConfig, run_server

pytestmark = pytest.mark.slow


@pytest.fixture
async def target() -> AsyncIterator[str]:
    runner, base_url = await run_server(ServerConfig(host="127.0.0.1", port=0))
    yield base_url + "/whip"
    await runner.cleanup()


async def capture(tmp_path: Path, url: str, name: str = "c", **options: Any) -> Capture:
    opts = ProbeOptions(target=url, output=tmp_path / f"{name}.jsonl", protocol="whip", stats_interval=0.5,
                        **options)
    result = await ProbeSession(opts).run()
    loaded = load(result.path)
    assert loaded.ok, loaded.diagnosis
    return loaded


def impairment(c: Capture, action: str) -> list[dict[str, Any]]:
    return [e for e in c.of("impairment") if e["action"] == action]


def summary(c: Capture) -> dict[str, Any]:
    (event,) = impairment(c, "summary")
    return event


def ice_rtts(c: Capture) -> list[float]:
    """The round-trip times of the probe's STUN checks on the selected pair, one per stats sample."""
    return [r["currentRoundTripTime"] for e in c.of("stats") for r in e["reports"]
            if r["type"] == "candidate-pair" and r.get("currentRoundTripTime")]


async def test_same_seed_same_drops_on_a_session(target: str, tmp_path: Path) -> None:
    runs = [await capture(tmp_path, target, f"s{i}", impair=["loss=5%"], seed=seed, duration=2.5)
            for i, seed in enumerate((7, 7, 8))]
    a, b, c = (summary(run) for run in runs)
    for direction in ("up", "down"):
        counts = a[direction]
        assert counts["dropped_loss"] > 0
        assert counts["dropped_loss"] == len(counts["loss_drops"])
        # the capture's own bookkeeping adds up: every datagram dropped, delivered or cut at close
        assert counts["packets"] == counts["dropped_loss"] + counts["delivered"] + counts["lost_at_close"]
        # STUN, DTLS and SRTP all crossed the seam
        assert {"stun", "dtls", "rtp", "rtcp"} <= set(counts["by_class"])
        # same seed: the datagrams both sessions carried were dropped at the same places
        common = min(counts["packets"], b[direction]["packets"])
        same = [i for i in counts["loss_drops"] if i < common]
        assert same == [i for i in b[direction]["loss_drops"] if i < common] and same
        assert same != [i for i in c[direction]["loss_drops"] if i < common]
    # the set event says what was applied, with the seed
    (applied,) = impairment(runs[0], "set")
    assert applied["seed"] == 7 and applied["up"]["loss_pct"] == 5 and applied["down"]["loss_pct"] == 5
    assert runs[0].header["options"]["impair"] == ["loss=5%"]


async def test_delay_shows_in_the_seam_and_in_the_rtt(target: str, tmp_path: Path) -> None:
    base = await capture(tmp_path, target, "base", duration=3.0)
    delayed = await capture(tmp_path, target, "delayed", impair=["delay=20ms"], duration=3.0)
    counts = summary(delayed)
    for direction in ("up", "down"):
        # each datagram was due 20 ms after it arrived; what it was held beyond that is the event
        # loop's lateness, recorded apart so that the truth is what the wire saw
        held = counts[direction]["delay_mean_ms"] - counts[direction]["late_mean_ms"]
        assert abs(held - 20) <= 2, counts[direction]
    # the probe's ICE RTT (a fresh STUN check every interval) rises by the two delays: never less
    # (within 2 ms), and more only by what the event loop held datagrams late, as recorded
    increase = (statistics.median(ice_rtts(delayed)) - statistics.median(ice_rtts(base))) * 1000
    late = counts["up"]["late_max_ms"] + counts["down"]["late_max_ms"]
    assert 40 - 2 <= increase <= 40 + 2 + late, (increase, late)


async def test_rate_is_held_on_a_session(target: str, tmp_path: Path) -> None:
    rate = 40_000  # below what aiortc's VP8 sends at 640x480, 15 fps
    c = await capture(tmp_path, target, audio=None, video=True, video_size=(640, 480), fps=15,
                      impair=[f"up:rate={rate // 1000}kbit"], duration=3.0)
    events = impairment(c, "counts") + impairment(c, "summary")
    up = summary(c)["up"]
    assert up["dropped_queue"] > 0 and up["bytes"] * 8 / c.duration > rate  # the limit was exercised
    assert summary(c)["down"]["dropped_queue"] == 0
    for before, after in zip(events, events[1:], strict=False):
        sent = after["up"]["delivered_bytes"] - before["up"]["delivered_bytes"]
        # bytes out of the queue <= rate x interval, plus the datagram in service and timer lateness
        allowance = rate / 8 * (after["t"] - before["t"] + after["up"]["late_max_ms"] / 1000) + 1500
        assert sent <= allowance, (before["t"], after["t"], sent)


async def test_schedule_applies_at_its_times(target: str, tmp_path: Path) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("# loss from 1 s to 2 s\n0s none\n1s loss=30%\n2s none\n")
    c = await capture(tmp_path, target, impair_schedule=str(plan), duration=3.0)
    sets = impairment(c, "set")
    assert [(e["at"], e["spec"]) for e in sets] == [(0, "none"), (1, "loss=30%"), (2, "none")]
    for event in sets[1:]:  # recorded when applied, on the capture clock
        assert 0 <= event["t"] - event["at"] < 0.1, event
    counts = impairment(c, "counts")
    final = summary(c)
    before = [e for e in counts if e["t"] < sets[1]["t"]]
    after = [e for e in counts if e["t"] > sets[2]["t"]]
    assert before and after
    assert all(e[d]["dropped_loss"] == 0 for e in before for d in ("up", "down"))
    for d in ("up", "down"):
        assert final[d]["dropped_loss"] > 0
        assert all(e[d]["dropped_loss"] == final[d]["dropped_loss"] for e in after)  # none after 2 s


async def test_the_seam_is_per_connection_and_removable() -> None:
    """Two peer connections in one process, one impaired: the other's sockets are untouched, and
    closing the network gives the impaired one its own transports back."""
    offerer, answerer = RTCPeerConnection(), RTCPeerConnection()
    network = Network(seed=3, spec=parse_spec("delay=30ms")[0])
    channel = offerer.createDataChannel("x")
    network.attach_peer_connection(offerer)
    await offerer.setLocalDescription(await offerer.createOffer())
    await answerer.setRemoteDescription(offerer.localDescription)
    await answerer.setLocalDescription(await answerer.createAnswer())
    await offerer.setRemoteDescription(answerer.localDescription)
    opened = asyncio.Event()
    channel.on("open", opened.set)
    await asyncio.wait_for(opened.wait(), 10)

    def protocols(pc: RTCPeerConnection) -> list[Any]:
        return [p for t in pc.getTransceivers() + [pc.sctp] if t is not None
                for p in t.transport.transport.iceGatherer._connection._protocols]

    assert all(isinstance(p.transport, _ImpairedTransport) for p in protocols(offerer))
    assert not any(isinstance(p.transport, _ImpairedTransport) for p in protocols(answerer))
    assert not any("datagram_received" in vars(p) for p in protocols(answerer))
    counts = network.pipes["up"].counts
    assert counts.delivered > 0 and abs((counts.delay_sum - counts.late_sum) / counts.delivered - 0.030) <= 0.002
    network.close()
    assert not any(isinstance(p.transport, _ImpairedTransport) for p in protocols(offerer))
    assert not any("datagram_received" in vars(p) for p in protocols(offerer))
    await offerer.close()
    await answerer.close()


async def test_every_knob_in_its_counters_on_a_session(target: str, tmp_path: Path) -> None:
    knobs = "loss=5%,burst=2,delay=30ms,jitter=10ms,reorder=5%,duplicate=5%"
    c = await capture(tmp_path, target, video=True, video_size=(320, 240), fps=10, impair=[knobs], seed=5,
                      duration=3.0)
    final = summary(c)
    for direction in ("up", "down"):
        n = final[direction]
        assert n["dropped_loss"] > 0 and n["duplicated"] > 0 and n["reordered"] > 0, n
        assert n["dropped_queue"] == 0  # no rate: no queue
        # every datagram is accounted for: dropped, or each of its copies delivered or cut at close
        assert n["delivered"] + n["lost_at_close"] == n["packets"] - n["dropped_loss"] + n["duplicated"]
    # jitter alone keeps the order
    fifo = await capture(tmp_path, target, "fifo", impair=["delay=30ms,jitter=10ms"], duration=2.0)
    for direction in ("up", "down"):
        n = summary(fifo)[direction]
        assert n["reordered"] == 0 and n["delivered"] > 0
        assert 30 - 10 - 2 <= n["delay_mean_ms"] - n["late_mean_ms"] <= 30 + 10 + 2

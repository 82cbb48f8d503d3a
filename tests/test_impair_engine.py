"""The impairment model alone (rtcprobe.net.impair.Pipe), fed synthetic datagrams on a made-up
clock: every knob measured by its own counters. The generators are seeded, so each figure below is
the same on every run (the tolerances are the model's, not the machine's)."""

from __future__ import annotations

import struct

import pytest

from rtcprobe import limits
from rtcprobe.net.impair import Pipe, default_queue_bytes, gilbert_elliott, wire_class
from rtcprobe.net.spec import Conditions, parse_spec


def rtp(seq: int, size: int = 200, ssrc: int = 0x1234) -> bytes:
    """An RTP datagram as SRTP leaves it readable: V=2, PT 96, sequence number, SSRC."""
    header = struct.pack("!BBHII", 0x80, 96, seq & 0xFFFF, seq * 960, ssrc)
    return header + bytes(size - len(header))


def up(spec: str, seed: int = 1) -> Pipe:
    network, _ = parse_spec(spec)
    return Pipe("up", seed, network.up)


def drop_pattern(pipe: Pipe, n: int, spacing: float = 0.02) -> list[bool]:
    return [not pipe.offer(rtp(i), i * spacing) for i in range(n)]


def bursts(pattern: list[bool]) -> list[int]:
    runs, run = [], 0
    for dropped in pattern:
        if dropped:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    return runs + ([run] if run else [])


def test_same_seed_same_drops_other_seed_other_drops() -> None:
    a = drop_pattern(up("loss=5%,burst=3"), 5000)
    b = drop_pattern(up("loss=5%,burst=3"), 5000)
    c = drop_pattern(up("loss=5%,burst=3", seed=2), 5000)
    assert a == b
    assert a != c
    # the loss draws do not depend on the other knobs: adding delay and jitter keeps the drops
    assert drop_pattern(up("loss=5%,burst=3,delay=30ms,jitter=10ms"), 5000) == a
    # nor on the direction's name alone being the same: "down" has its own generator
    down = Pipe("down", 1, parse_spec("loss=5%,burst=3")[0].down)
    assert drop_pattern(down, 5000) != a


@pytest.mark.parametrize("spec, loss", [("loss=5%", 0.05), ("loss=2%", 0.02), ("loss=10%", 0.10),
                                        ("loss=5%,burst=3", 0.05), ("loss=10%,burst=3", 0.10)])
def test_loss_within_one_point_over_many_packets(spec: str, loss: float) -> None:
    pipe = up(spec)
    pattern = drop_pattern(pipe, 100_000)
    assert abs(sum(pattern) / len(pattern) - loss) <= 0.01
    assert pipe.counts.dropped_loss == sum(pattern) == len(pipe.loss_drops)
    assert pipe.loss_drops == [i for i, dropped in enumerate(pattern) if dropped]
    assert sum(len(v) for v in pipe.rtp_drops.values()) == sum(pattern) == pipe.counts.rtp_dropped
    assert pipe.rtp_drops[0x1234] == [i & 0xFFFF for i, dropped in enumerate(pattern) if dropped]


def test_burst_is_the_mean_run_length() -> None:
    runs = bursts(drop_pattern(up("loss=5%,burst=3"), 50_000))
    assert abs(sum(runs) / len(runs) - 3) <= 0.3
    # without burst, losses are independent: runs average 1 / (1 - loss)
    runs = bursts(drop_pattern(up("loss=5%"), 50_000))
    assert abs(sum(runs) / len(runs) - 1 / 0.95) <= 0.05


def test_gilbert_elliott_formula() -> None:
    p, r = gilbert_elliott(0.05, 3)
    assert r == pytest.approx(1 / 3)
    assert p / (p + r) == pytest.approx(0.05)  # stationary loss
    assert p == pytest.approx(0.05 / (3 * 0.95))


def test_delay_and_fifo_under_jitter() -> None:
    pipe = up("delay=40ms")
    assert pipe.offer(rtp(0), 10.0) == [pytest.approx(10.040)]
    pipe = up("delay=40ms,jitter=10ms")
    releases = [pipe.offer(rtp(i), i * 0.001)[0] for i in range(5000)]
    assert releases == sorted(releases)  # no reordering without reorder=
    added = [t - i * 0.001 for i, t in enumerate(releases)]
    assert min(added) >= 0.030 - 1e-9 and max(added) <= 0.050 + 1e-9 + 0.010
    assert pipe.counts.reordered == 0 and pipe.counts.delayed == 5000


def test_reorder_lets_a_fraction_skip_the_delay() -> None:
    pipe = up("delay=40ms,reorder=5%")
    releases = [pipe.offer(rtp(i), i * 0.005)[0] for i in range(20_000)]
    overtaking = sum(1 for i in range(1, len(releases)) if releases[i] < max(releases[:i][-20:]))
    assert abs(pipe.counts.reordered / 20_000 - 0.05) <= 0.01
    assert overtaking == pipe.counts.reordered  # every counted one did overtake a packet in flight


def test_duplicate() -> None:
    pipe = up("duplicate=2%")
    copies = [len(pipe.offer(rtp(i), i * 0.01)) for i in range(20_000)]
    assert set(copies) == {1, 2}
    assert abs(copies.count(2) / 20_000 - 0.02) <= 0.01
    assert pipe.counts.duplicated == copies.count(2)


def test_rate_is_held_and_the_queue_drops_its_tail() -> None:
    rate = 500_000
    pipe = up("rate=500kbit,delay=40ms")
    assert pipe.queue_limit == int(1.5 * rate / 8 * 0.040)  # webrtcperf's 1.5 x rate x delay
    sent = []
    for i in range(4000):  # 2 Mbit/s offered: four times the rate
        now = i * 0.0048
        for release in pipe.offer(rtp(i, size=1200), now):
            sent.append((release - 0.040, 1200))  # leaving the queue, before the propagation delay
    assert pipe.counts.dropped_queue > 0
    assert pipe.counts.queue_max_bytes <= pipe.queue_limit
    # bytes out of the queue in any window of 1 s: at most the rate (plus the one packet in service)
    times = [t for t, _ in sent]
    for start in times[:: 50]:
        in_window = sum(size for t, size in sent if start <= t < start + 1.0)
        assert in_window * 8 <= rate * 1.0 + 1200 * 8
    total_time = times[-1] - times[0]
    assert len(sent) * 1200 * 8 / total_time == pytest.approx(rate, rel=0.01)  # and it is used fully


def test_default_queue_without_delay() -> None:
    c = Conditions(rate=1_000_000)
    assert default_queue_bytes(c) == int(1.5 * 1_000_000 / 8 * limits.IMPAIR_MIN_QUEUE_DELAY)
    assert default_queue_bytes(Conditions(rate=8_000)) == limits.IMPAIR_MIN_QUEUE_BYTES
    assert default_queue_bytes(Conditions(rate=8_000, queue=4000)) == 4000


def test_nothing_configured_changes_nothing() -> None:
    pipe = up("none")
    assert [pipe.offer(rtp(i), float(i)) for i in range(100)] == [[float(i)] for i in range(100)]


def test_wire_classes() -> None:
    assert wire_class(b"\x00\x01") == "stun"
    assert wire_class(bytes([22, 254])) == "dtls"
    assert wire_class(rtp(1)) == "rtp"
    assert wire_class(bytes([0x80, 200]) + bytes(6)) == "rtcp"
    assert wire_class(b"") == "other"

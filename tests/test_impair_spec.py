"""The impairment SPEC grammar, presets and schedules (rtcprobe.net.spec), and the CLI's answer to a
bad one: exit 2, one line naming the bad part, before any session starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rtcprobe.net.record import schedule_from
from rtcprobe.net.spec import PRESETS, Conditions, SpecError, parse_schedule, parse_spec


def test_knobs_and_units() -> None:
    spec, at = parse_spec("loss=5%,burst=3,delay=40ms,jitter=10ms,reorder=1%,duplicate=0.5%,rate=1.5mbit,queue=30kB")
    assert at is None and spec.up == spec.down
    assert spec.up == Conditions(loss=0.05, burst=3, delay=0.040, jitter=0.010, reorder=0.01, duplicate=0.005,
                                 rate=1_500_000, queue=30_000)
    assert parse_spec("delay=1.5s")[0].up.delay == 1.5
    assert parse_spec("delay=250us")[0].up.delay == pytest.approx(0.00025)


def test_directions() -> None:
    spec, _ = parse_spec("up:rate=300kbit,down:loss=2%")
    assert spec.up == Conditions(rate=300_000)
    assert spec.down == Conditions(loss=0.02)
    spec, _ = parse_spec("loss=1%,down:loss=3%")  # later items override earlier ones
    assert (spec.up.loss, spec.down.loss) == (0.01, 0.03)


def test_presets_are_pions_network_conditioner() -> None:
    """pion/transport vnet/network_conditioner_presets.go: bandwidth (kbit/s), latency, loss."""
    expected = {  # preset: (up rate, up delay, down rate, down delay, loss) as in pion's source
        "3g": (330, 0.100, 780, 0.100, 0.0), "dsl": (256, 0.005, 2000, 0.005, 0.0),
        "edge": (200, 0.440, 240, 0.400, 0.0), "lte": (10000, 0.065, 50000, 0.050, 0.0),
        "verybad": (1000, 0.500, 1000, 0.500, 0.10), "wifi": (33000, 0.001, 40000, 0.001, 0.0),
    }
    assert set(PRESETS) == set(expected)
    for name, (up_rate, up_delay, down_rate, down_delay, loss) in expected.items():
        spec, _ = parse_spec(name)
        assert (spec.up.rate, spec.up.delay, spec.down.rate, spec.down.delay) == (
            up_rate * 1000, pytest.approx(up_delay), down_rate * 1000, pytest.approx(down_delay)), name
        assert spec.up.loss == spec.down.loss == loss
    spec, _ = parse_spec("3g,down:loss=2%")  # a preset, then a knob on top
    assert spec.down == Conditions(rate=780_000, delay=0.1, loss=0.02)
    assert not parse_spec("3g,none")[0].active


@pytest.mark.parametrize("spec, named", [
    ("loss=200%", "loss=200%"), ("delay=-5ms", "delay=-5ms"), ("rate=fast", "rate=fast"),
    ("colour=red", "unknown key 'colour'"), ("4g", "4g: unknown preset"), ("loss=5", "loss=5"),
    ("delay=40", "delay=40"), ("rate=0kbit", "rate=0kbit"), ("burst=0.5", "burst=0.5"),
    ("loss=60%,burst=1", "loss=60% with burst=1"), ("reorder=1%", "reorder=1% needs delay"),
    ("sideways:loss=1%", "unknown direction 'sideways'"), ("up:3g", "up:3g"), ("loss=1%,,delay=1ms", "empty item"),
    ("delay=11s", "delay=11s: at most 10s"), ("queue=10B", "queue=10B"), ("at=5s,loss=1%", "at=5s"),
])
def test_bad_specs_name_the_bad_part(spec: str, named: str) -> None:
    with pytest.raises(SpecError, match=None) as info:
        parse_spec(spec)
    assert named in str(info.value)


def test_schedule_file_and_repeated_impair() -> None:
    entries = parse_schedule("# drop at 10 s, recover at 20 s\n0s loss=1%\n10s rate=300kbit  # the drop\n\n20s none\n",
                             "plan.txt")
    assert [(e.at, e.spec.text) for e in entries] == [(0, "loss=1%"), (10, "rate=300kbit"), (20, "none")]
    assert entries[1].spec.up == Conditions(rate=300_000) and not entries[2].spec.active
    entries = schedule_from(["loss=2%", "at=10s,rate=300kbit", "at=5s,delay=10ms"], None)
    assert [e.at for e in entries] == [0, 5, 10]


@pytest.mark.parametrize("text, named", [
    ("10s rate=fast\n", "plan.txt:1: rate=fast"), ("0s none\nten rate=1mbit\n", "plan.txt:2: time=ten"),
    ("5s loss=1%\n5s none\n", "two entries for t=5s"), ("# nothing\n", "no schedule entries"),
    ("10s\n", "plan.txt:1: empty SPEC"),
])
def test_bad_schedule_lines_are_named(text: str, named: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_schedule(text, "plan.txt")
    assert named in str(info.value)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "rtcprobe.cli", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("spec, named", [
    ("loss=200%", "loss=200%"), ("delay=-5ms", "delay=-5ms"), ("rate=fast", "rate=fast"),
    ("speed=1", "unknown key 'speed'"), ("5g", "5g: unknown preset"),
])
def test_cli_bad_spec_is_exit_2_before_any_session(tmp_path: Path, spec: str, named: str) -> None:
    # a target nobody listens on: a session that started would fail differently (exit 1)
    out = tmp_path / "c.jsonl"
    result = run_cli("capture", "http://127.0.0.1:9/whip", "--impair", spec, "-o", str(out), "--no-live")
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("rtcprobe: error: --impair") and named in line
    assert "Traceback" not in result.stderr and not out.exists()


def test_cli_bad_schedule_file_names_file_and_line(tmp_path: Path) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("0s none\n10s up:rate=300kbit\n20s down:jitter=fast\n")
    result = run_cli("capture", "http://127.0.0.1:9/whip", "--impair-schedule", str(plan), "--no-live",
                     "-o", str(tmp_path / "c.jsonl"))
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert f"{plan}:3: down:jitter=fast" in line or f"{plan}:3: jitter=fast" in line
    missing = run_cli("capture", "http://127.0.0.1:9/whip", "--impair-schedule", str(tmp_path / "none.txt"),
                      "--no-live", "-o", str(tmp_path / "c.jsonl"))
    assert missing.returncode == 2 and "none.txt" in missing.stderr and "Traceback" not in missing.stderr


async def test_python_api_bad_spec_ends_the_capture_before_any_request(tmp_path: Path) -> None:
    from rtcprobe.capture import load
    from rtcprobe.probe.options import ProbeOptions
    from rtcprobe.probe.session import ProbeSession

    options = ProbeOptions(target="http://127.0.0.1:9/whip", output=tmp_path / "c.jsonl", impair=["rate=fast"])
    result = await ProbeSession(options).run()
    assert (result.reason, result.diagnosis) == ("error", "impairment: --impair 'rate=fast': rate=fast: expected a "
                                                          "rate above 0 such as 500kbit (bit, kbit, mbit, gbit)")
    capture = load(result.path)
    assert not capture.of("http") and not capture.of("impairment")

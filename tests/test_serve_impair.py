"""`rtcprobe serve --impair`: the network engine of `capture --impair` under the reference target,
per session on the session's own clock. On a real loopback session (probe <-> serve, aiortc both
sides) the probe's packetsLost equals the RTP the target's network dropped; the old flags are
aliases with their old meaning (loss hits RTP only); a bad SPEC is a usage error."""

from __future__ import annotations

import asyncio
import logging
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rtcprobe.analyze.evidence import last_reports
from rtcprobe.analyze.impairment import impairment_truth
from rtcprobe.capture import load
from rtcprobe.net.impair import Pipe
from rtcprobe.net.spec import SpecError, parse_spec
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.server import (
    EchoSession,
    ServerConfig,
    add_serve_arguments,
    config_from_args,
    run_server,
)
from rtcprobe.server.app import SESSIONS

RTCP = bytes([0x81, 201, 0, 7]) + bytes(28)
STUN = bytes([0x00, 0x01, 0x00, 0x00]) + bytes(16)
DTLS = bytes([22, 254, 253]) + bytes(40)


def rtp(seq: int, ssrc: int = 1234) -> bytes:
    return bytes([0x80, 111]) + seq.to_bytes(2, "big") + bytes(4) + ssrc.to_bytes(4, "big") + bytes(100)


# -- rtploss= in the grammar and the engine ------------------------------------------------------


def test_rtploss_drops_rtp_only_and_is_seeded() -> None:
    spec, _ = parse_spec("up:rtploss=25%")
    assert spec.up.rtploss == 0.25 and not spec.down.active
    assert spec.up.to_event()["rtploss_pct"] == 25

    def run(seed: int) -> Pipe:
        pipe = Pipe("up", seed, spec.up)
        for seq in range(400):
            for data in (rtp(seq), RTCP, STUN, DTLS):
                pipe.offer(data, 0.0)
        return pipe

    a, b, c = run(7), run(7), run(8)
    classes = a.counts.by_class
    assert classes["rtp"]["dropped"] > 0 and classes["rtp"]["packets"] == 400
    assert [classes[k]["dropped"] for k in ("rtcp", "stun", "dtls")] == [0, 0, 0]
    assert a.counts.dropped_loss == a.counts.rtp_dropped == classes["rtp"]["dropped"]
    # the n-th RTP datagram's fate is the n-th draw of its own generator: nothing else moves it
    draws = random.Random("7:up:rtploss")
    assert a.rtp_drops[1234] == [seq for seq in range(400) if draws.random() < 0.25]
    assert a.rtp_drops == b.rtp_drops and a.rtp_drops != c.rtp_drops


@pytest.mark.parametrize("bad", ["rtploss=200%", "rtploss=5", "down:rtploss=-1%"])
def test_bad_rtploss_is_named(bad: str) -> None:
    with pytest.raises(SpecError, match="rtploss"):
        parse_spec(bad)


# -- the serve flags ------------------------------------------------------------------------------


def config_of(*argv: str) -> ServerConfig:
    import argparse

    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    return config_from_args(parser.parse_args(list(argv)))


def test_aliases_keep_their_meaning() -> None:
    (entry,) = config_of("--loss-percent", "30", "--delay-ms", "20", "--seed", "4").impair_entries
    assert (entry.at, entry.spec.text) == (0.0, "up:rtploss=30%,up:delay=20ms")
    assert (entry.spec.up.rtploss, entry.spec.up.delay, entry.spec.up.loss) == (0.3, 0.02, 0.0)
    assert not entry.spec.down.active  # outbound only, as before
    schedule = config_of("--impair", "3g", "--impair", "at=10s,up:rate=300kbit").impair_entries
    assert [(e.at, e.spec.text) for e in schedule] == [(0.0, "3g"), (10.0, "at=10s,up:rate=300kbit")]
    assert ServerConfig().impair_entries == []


def serve_cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rtcprobe.cli", "serve", "--port", "0", *argv],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("argv", "named"), [
    (("--impair", "loss=200%"), "loss=200%"),
    (("--impair", "delay=-5ms"), "delay=-5ms"),
    (("--impair", "loss=1%,rate=fast"), "rate=fast"),
    (("--impair", "wobble=3"), "'wobble'"),
    (("--impair", "5g"), "5g: unknown preset"),
    (("--loss-percent", "5", "--impair", "3g"), "aliases of --impair up:rtploss=5%"),
    (("--delay-ms", "20000"), "delay=20000ms: at most 10s"),
])
def test_bad_spec_is_a_usage_error(argv: tuple[str, ...], named: str) -> None:
    out = serve_cli(*argv)
    assert out.returncode == 2, out.stderr
    assert named in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1 and out.stdout == ""  # before anything listens


def test_bad_schedule_line_is_named(tmp_path: Path) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("0s none\n2s rate=fast\n")
    out = serve_cli("--impair-schedule", str(plan))
    assert out.returncode == 2 and f"{plan}:2: rate=fast" in out.stderr, out.stderr


# -- real sessions ----------------------------------------------------------------------------------


def first_rtp_passes(seed: int, share: float) -> bool:
    """Whether the target's first RTP datagram survives `up:rtploss=share`: a drop before a stream's
    first packet arrived is no gap the receiver can see, so the exact comparison needs it to pass."""
    return random.Random(f"{seed}:up:rtploss").random() >= share


async def probe_session(tmp_path: Path, config: ServerConfig, **options: Any) -> tuple[Any, EchoSession]:
    """Run the probe against a target with `config`; the capture and the target's session object."""
    runner, base = await run_server(config)
    try:
        sessions: dict[str, EchoSession] = runner.app[SESSIONS]
        opts = ProbeOptions(target=base + "/whip", output=tmp_path / "c.jsonl", protocol="whip",
                            stats_interval=0.5, **options)
        run = asyncio.ensure_future(ProbeSession(opts).run())
        while not sessions and not run.done():
            await asyncio.sleep(0.02)
        assert sessions, "the target opened no session"
        (session,) = sessions.values()
        result = await run
        for _ in range(100):  # the probe's DELETE closes the session; its summary is then recorded
            if session.impairment is None or session.impairment.summary is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        await runner.cleanup()
    capture = load(result.path)
    assert capture.ok, capture.diagnosis
    return capture, session


@pytest.mark.slow
async def test_probe_packets_lost_equals_the_targets_rtp_drops(tmp_path: Path, caplog) -> None:
    share = 0.1
    seed = next(s for s in range(1, 100) if first_rtp_passes(s, share))
    # loss for the first 2 s of each session, then none: every drop lies between received packets
    config = ServerConfig(impair=[f"up:rtploss={share:.0%}", "at=2s,none"], seed=seed)
    with caplog.at_level(logging.INFO, logger="rtcprobe.server.impair"):
        capture, session = await probe_session(tmp_path, config, duration=4.0)
    served = session.impairment
    assert served is not None and served.summary is not None
    assert [(e["at"], e["spec"]) for e in served.sets] == [(0.0, "up:rtploss=10%"), (2.0, "at=2s,none")]
    assert 0 <= served.sets[1]["t"] - 2.0 < 0.2  # on the session's own clock
    up = served.summary["up"]
    (inbound,) = [r for r in last_reports(capture, "inbound-rtp") if r.get("kind") == "audio"]
    drops = up["rtp_drops"][str(inbound["ssrc"])]
    assert drops and up["rtp_dropped"] == len(drops)  # the echoed audio is the target's only RTP
    assert inbound["packetsLost"] == len(drops)  # the probe measured exactly what the network did
    # RTP only: the probe's feedback, STUN and DTLS crossed untouched, and nothing came in impaired
    assert all(up["by_class"][k]["dropped"] == 0 for k in ("rtcp", "stun", "dtls") if k in up["by_class"])
    assert served.summary["down"]["dropped_loss"] == 0
    # the target logged the sets and what the network did at close
    lines = [r.getMessage() for r in caplog.records]
    assert any(f"impairment up (target sends): {up['packets']} datagrams, dropped {len(drops)}" in line
               for line in lines), lines
    assert impairment_truth(capture) is None  # the probe itself was not impaired


@pytest.mark.slow
async def test_loss_percent_alias_on_a_session(tmp_path: Path) -> None:
    capture, session = await probe_session(tmp_path, config_of("--loss-percent", "20", "--seed", "3"),
                                           duration=2.0)
    assert session.impairment is not None and session.impairment.summary is not None
    up = session.impairment.summary["up"]
    assert up["by_class"]["rtp"]["dropped"] > 0
    assert all(up["by_class"][k]["dropped"] == 0 for k in ("rtcp", "stun", "dtls") if k in up["by_class"])
    (inbound,) = [r for r in last_reports(capture, "inbound-rtp") if r.get("kind") == "audio"]
    assert 0 < inbound["packetsLost"] <= up["rtp_dropped"]  # drops after the last stats are not seen


@pytest.mark.slow
async def test_serve_cli_prints_each_sessions_impairment(tmp_path: Path) -> None:
    """`rtcprobe serve --impair` as a user runs it: the changes and, at close, what the session's
    network did, on stdout; the probe saw no more loss than that network made."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "rtcprobe.cli", "serve", "--port", "0", "--impair", "up:rtploss=20%", "--seed", "5",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        lines: list[str] = []

        async def line_with(text: str) -> str:
            while True:
                line = (await proc.stdout.readline()).decode()
                assert line, f"serve ended before {text!r}: {lines}"
                lines.append(line)
                if text in line:
                    return line

        whip = (await asyncio.wait_for(line_with("/whip"), 30)).split()[-1]
        shown = await asyncio.wait_for(line_with("impairment from"), 30)
        assert "impairment from t=0s of each session: up:rtploss=20% (seed 5" in shown
        opts = ProbeOptions(target=whip, output=tmp_path / "c.jsonl", protocol="whip", stats_interval=0.5,
                            duration=2.0)
        result = await ProbeSession(opts).run()
        up = await asyncio.wait_for(line_with("impairment up (target sends):"), 30)
        down = await asyncio.wait_for(line_with("impairment down (target receives):"), 30)
    finally:
        proc.terminate()
        await proc.wait()
    capture = load(result.path)
    assert capture.ok, capture.diagnosis
    dropped = int(up.split("dropped ")[1].split(" ")[0])
    assert dropped > 0 and "0 random" not in up and "dropped 0 (" in down
    # loopback loses nothing else; drops after the probe's last stats sample are not in packetsLost
    received = last_reports(capture, "inbound-rtp")
    assert received and all(r["packetsLost"] <= dropped for r in received)

"""Issue detectors (rtcprobe.analyze.detectors) on real records: public browser dumps, and probe
sessions against the reference target with its knobs (delay, RTP loss, a receive path that goes
dry, a slow answer, an ICE that cannot succeed). Each finding's numbers are checked against the
record's own raw reports or the impairment's ground truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtcprobe.analyze.detectors import STUCK_TRACK_S, detect
from rtcprobe.capture import Capture, load
from rtcprobe.importers import load_captures
from rtcprobe.probe.options import PhaseTimeouts, ProbeOptions
from rtcprobe.probe.session import ProbeSession

DATA = Path(__file__).parent / "data"
DUMPS = DATA / "realworld" / "dumps"


def codes(capture: Capture) -> list[str]:
    return [f.code for f in detect(capture).findings]


def last(capture: Capture, type_: str, ssrc: int) -> dict:
    return next(r for s in reversed(capture.stats_samples) for r in s["reports"]
                if r.get("type") == type_ and r.get("ssrc") == ssrc)


# -- real browser dumps --


def test_jitsi_relay_call_turn_freezes_congestion_and_a_silent_track() -> None:
    """Chrome in a Jitsi call through TURN (rtcstats-server dump): every finding against its reports."""
    (capture,) = load_captures(DUMPS / "jitsi-chrome-relay.gz")
    d = detect(capture)
    assert d.ice_outcome == "relay"
    by = {}
    for f in d.findings:
        by.setdefault(f.code, []).append(f)
    assert by["turn_used"][0].measured["local_type"] == "relay"
    for f in by["video_freeze"]:  # the freeze count is the browser's own W3C freezeCount
        ssrc = int(f.stream.rsplit(" ", 1)[1])
        assert f.measured["freezes"] == last(capture, "inbound-rtp", ssrc)["freezeCount"] > 0
    (stuck,) = by["stuck_inbound_track"]  # the audio stream of a participant who never sent audio
    ssrc = int(stuck.stream.rsplit(" ", 1)[1])
    assert last(capture, "inbound-rtp", ssrc)["packetsReceived"] == 0 and stuck.severity == "error"
    assert stuck.measured["silent_s"] >= STUCK_TRACK_S
    (congestion,) = by["congestion"]
    available = [r["availableOutgoingBitrate"] for s in capture.stats_samples for r in s["reports"]
                 if r.get("type") == "candidate-pair" and "availableOutgoingBitrate" in r]
    assert congestion.measured["before_bps"] in [round(v) for v in available]
    assert congestion.measured["after_bps"] <= congestion.measured["before_bps"] / 2
    assert congestion.measured["bandwidth_limited_samples"] > 0  # qualityLimitationReason said so too
    assert d.findings[0].severity == "error"  # errors first
    # 94 of 2604 frames were dropped on one stream, never half of an interval's: no frames_dropped
    for ssrc in {r["ssrc"] for s in capture.stats_samples for r in s["reports"]
                 if r.get("type") == "inbound-rtp" and r.get("kind") == "video"}:
        series = [r for s in capture.stats_samples for r in s["reports"]
                  if r.get("type") == "inbound-rtp" and r.get("ssrc") == ssrc and "framesDropped" in r]
        for a, b in zip(series, series[1:], strict=False):
            got = b["framesReceived"] - a["framesReceived"]
            assert got == 0 or (b["framesDropped"] - a["framesDropped"]) / got < 0.5
    assert "frames_dropped" not in by and "frozen_video_track" not in by


def test_a_failed_peer_connection_is_ice_failed() -> None:
    """The fifth PeerConnection of a Chromium renegotiation dump never connected."""
    failed = next(c for c in load_captures(DUMPS / "chromium-renegotiation-trickle.json.gz") if c.reason == "ice")
    d = detect(failed)
    assert d.ice_outcome == "failed" and [f.code for f in d.findings] == ["ice_failed"]


def test_no_decoder_finding_before_a_frame_arrived() -> None:
    """Jitsi's P2P connection that carried nothing: stuck tracks, but "unknown" decoder is no codec
    mismatch while no frame was received."""
    pcs = load_captures(DUMPS / "jitsi-google-standard-stats-relay-p2p.gz")
    found = codes(pcs[1])
    assert found.count("stuck_inbound_track") == 2 and "codec_mismatch" not in found
    assert "turn_used" in codes(pcs[0])


def test_a_healthy_local_chromium_call_has_no_findings() -> None:
    for capture in load_captures(DATA / "import-chromium-rtcstats_dump.gz"):
        d = detect(capture)
        assert d.ice_outcome == "direct" and d.findings == []
        assert all(m.estimate is not None and m.estimate.mos > 4.3 for m in d.mos)


# -- probe sessions against the reference target --



async def probe(tmp_path: Path, url: str, **options: object) -> Capture:
    opts = ProbeOptions(target=url, output=tmp_path / "c.jsonl", protocol="whip", stats_interval=0.5, **options)  # type: ignore[arg-type]
    return load((await ProbeSession(opts).run()).path)


@pytest.mark.slow
async def test_steady_delay_is_server_side_and_lowers_mos(serve, tmp_path: Path) -> None:
    base = await serve()
    capture = await probe(tmp_path, base + "/whip", impair=["delay=150ms"], duration=3.0)
    d = detect(capture)
    by = {(f.code, f.title.rsplit("(", 1)[-1].rstrip(")")): f for f in d.findings}
    delays = [f for (code, _), f in by.items() if code == "server_side_delay"]
    assert delays, [f.detail for f in d.findings]
    for delay in delays:  # 150 ms each way, steady: no loss, little jitter
        assert delay.measured["rtt_ms"] >= 300 and delay.measured["loss_pct"] <= 5 and delay.measured["jitter_ms"] < 200
    for direction in ("sent", "received"):  # a direction without it had loss or jitter: then that is said
        assert ("server_side_delay", direction) in by or ("network_quality", direction) in by
    for m in d.mos:  # the RTT alone takes the estimate under 4
        assert m.estimate is not None and by[("low_mos", m.direction)].measured["mos"] == round(m.estimate.mos, 2) < 4


@pytest.mark.slow
async def test_rtp_loss_is_network_quality_with_the_counted_loss(serve, tmp_path: Path) -> None:
    base = await serve()
    capture = await probe(tmp_path, base + "/whip", impair=["down:rtploss=12%"], seed=3, duration=3.0)
    (finding,) = [f for f in detect(capture).findings if f.code == "network_quality"]
    ssrc = int(finding.stream.split()[2])  # "received audio SSRC (mid 0)"
    raw = last(capture, "inbound-rtp", ssrc)
    assert finding.measured["loss_pct"] == round(100 * raw["packetsLost"] / (raw["packetsReceived"] + raw["packetsLost"]), 2)
    summary = next(e for e in capture.of("impairment") if e["action"] == "summary")
    dropped = len(summary["down"]["rtp_drops"][str(ssrc)])
    assert 0 < raw["packetsLost"] <= dropped  # drops at the very end are never counted lost


@pytest.mark.slow
async def test_a_receive_path_gone_dry_for_five_seconds(serve, tmp_path: Path) -> None:
    plan = tmp_path / "plan.txt"
    plan.write_text("0s none\n1s down:rtploss=100%\n")  # from 1 s on, no RTP reaches the probe
    base = await serve()
    capture = await probe(tmp_path, base + "/whip", impair_schedule=str(plan), duration=7.5)
    (dry,) = [f for f in detect(capture).findings if f.code == "dry_inbound_track"]
    ssrc = int(dry.stream.split()[2])
    assert dry.measured["packets_received"] == last(capture, "inbound-rtp", ssrc)["packetsReceived"] > 0
    assert dry.measured["silent_s"] >= STUCK_TRACK_S and dry.measured["from"] >= 1.0


@pytest.mark.slow
async def test_a_rate_limit_is_congestion_in_the_bandwidth_estimate(serve, tmp_path: Path) -> None:
    """transport-cc negotiated (the openai-2025-09 answer), video sent, 150 kbit/s up from 3 s: the
    probe's own estimate (availableOutgoingBitrate) falls, and the finding quotes its peak and low."""
    plan = tmp_path / "plan.txt"
    plan.write_text("0s none\n3s up:rate=150kbit\n")
    base = await serve(answer_profile="openai-2025-09")
    opts = ProbeOptions(target=base + "/v1/realtime/calls", output=tmp_path / "c.jsonl", protocol="openai",
                        stats_interval=0.5, impair_schedule=str(plan), duration=8.0, video=True,
                        video_size=(640, 480), fps=30)
    capture = load((await ProbeSession(opts).run()).path)
    estimate = [(s["t"], r["availableOutgoingBitrate"]) for s in capture.stats_samples for r in s["reports"]
                if r.get("type") == "candidate-pair" and "availableOutgoingBitrate" in r]
    by = {f.code: f for f in detect(capture).findings}
    congestion = by["congestion"]
    before = max(v for t, v in estimate if t < 3.0)  # the peak before the limit
    assert congestion.measured["before_bps"] == round(before)
    assert congestion.measured["after_bps"] == round(min(v for _, v in estimate)) <= before / 2
    assert congestion.measured["at"] >= 3.0  # not before the network changed
    low = by["outbound_network_throughput"]
    assert low.measured["available_bps"] == congestion.measured["after_bps"] < 100_000


@pytest.mark.slow
async def test_relay_over_tcp_is_turn_used_and_tcp_used(serve, tmp_path: Path) -> None:
    """--relay-only through coturn over TCP (tests/test_turn.py's server): both peermetrics warnings,
    the TCP one from the allocation's carrier, as the pair itself is UDP from the TURN server on."""
    from test_turn import PASSWORD, USER, running_coturn

    from rtcprobe.probe.ice_servers import from_arguments

    base = await serve()
    with running_coturn(tmp_path) as turn:
        ice = from_arguments([f"turn:127.0.0.1:{turn.port}?transport=tcp"], USER, PASSWORD, True)
        capture = await probe(tmp_path, base + "/whip", ice=ice, duration=1.0, timeouts=PhaseTimeouts(ice=8))
    d = detect(capture)
    selected = capture.of("selected_pair")[-1]
    assert d.ice_outcome == "relay" and selected["local_type"] == "relay"
    by = {f.code: f for f in d.findings}
    assert by["turn_used"].measured["local_type"] == "relay"
    assert by["tcp_used"].measured == {"transport": "tcp"}


@pytest.mark.slow
async def test_a_slow_answer_is_slow_setup(serve, tmp_path: Path) -> None:
    base = await serve(http_delay_ms=5200)
    capture = await probe(tmp_path, base + "/whip", duration=1.0)
    (slow,) = [f for f in detect(capture).findings if f.code == "slow_setup"]
    http = next(e for e in capture.http if e.get("phase") == "offer")
    assert slow.measured["setup_s"] >= http["t_response"] - http["t_request"] >= 5.2


@pytest.mark.slow
async def test_unreachable_candidates_are_ice_failed(serve, tmp_path: Path) -> None:
    base = await serve(advertise_ips=["127.0.0.2"], advertise_tcp_port=None, only_advertised=True)
    capture = await probe(tmp_path, base + "/whip", timeouts=PhaseTimeouts(ice=2, dtls=1))
    d = detect(capture)
    assert d.ice_outcome == "failed" and d.findings[0].code == "ice_failed"
    assert d.findings[0].measured["pairs_checked"] == len(capture.of("ice_pairs")[-1]["pairs"])


@pytest.mark.slow
async def test_a_clean_loopback_session_has_no_findings(serve, tmp_path: Path) -> None:
    base = await serve()
    capture = await probe(tmp_path, base + "/whip", duration=2.0)
    d = detect(capture)
    assert d.ice_outcome == "direct" and d.findings == []
    assert {m.direction for m in d.mos if m.estimate and m.estimate.mos > 4.3} == {"sent", "received"}


# -- views: findings come first --


def test_findings_lead_the_html_report_and_the_terminal_summary() -> None:
    from rich.console import Console

    from rtcprobe.analyze.feedback import feedback_counts
    from rtcprobe.analyze.latency import connect_breakdown
    from rtcprobe.report.html import render_report
    from rtcprobe.report.summary import render_summary

    (capture,) = load_captures(DUMPS / "jitsi-chrome-relay.gz")
    page = render_report([capture])
    assert page.index('id="findings"') < page.index('id="profile"') < page.index('id="connect"')
    findings = page[page.index('id="findings"'):page.index('id="profile"')]
    for f in detect(capture).findings:
        assert f.code in findings
    console = Console(record=True, width=200)
    render_summary(path=capture.path, reason=capture.reason, diagnosis="", breakdown=connect_breakdown(capture),
                   detection=detect(capture), profile=None, feedback=feedback_counts(capture), console=console)
    text = console.export_text()
    assert text.index("ICE: relay") < text.index("stuck_inbound_track") < text.index("Connect time")
    assert text.index("RTCP packets") < text.index("Stream quality")

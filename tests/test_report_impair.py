"""Impairment in reports: the analyzer's intervals and truth table from a real impaired capture (the
probe under a schedule against the reference target), the shaded spans on the time plots, the
"Network impairment" table next to what was measured, the terminal summary's lines, a capture cut
before its summary, and the rendered report in headless Chromium."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from browser import Chromium
from matplotlib.figure import Figure
from rich.console import Console

from rtcprobe.analyze.evidence import last_reports
from rtcprobe.analyze.feedback import feedback_counts
from rtcprobe.analyze.impairment import impairment_truth
from rtcprobe.analyze.latency import connect_breakdown
from rtcprobe.capture import Capture, load
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.report.html import write_report
from rtcprobe.report.plots import shade_impaired
from rtcprobe.report.summary import render_summary
from rtcprobe.server import ServerConfig, run_server

pytestmark = pytest.mark.slow

PLAN = "# loss from 1 s to 2 s, then a slow uplink\n0s none\n1s loss=20%\n2s none\n2.5s up:delay=30ms\n"


@pytest.fixture(scope="module")
def impaired(tmp_path_factory: pytest.TempPathFactory) -> Capture:
    """One capture of the probe under PLAN (seed 11), audio, against an unimpaired target."""
    import asyncio

    folder = tmp_path_factory.mktemp("impaired")
    plan = folder / "plan.txt"
    plan.write_text(PLAN)

    async def run() -> str:
        runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0))
        try:
            opts = ProbeOptions(target=base + "/whip", output=folder / "impaired.jsonl", protocol="whip",
                                stats_interval=0.5, duration=3.5, impair_schedule=str(plan), seed=11)
            return (await ProbeSession(opts).run()).path
        finally:
            await runner.cleanup()

    capture = load(asyncio.run(run()))
    assert capture.ok, capture.diagnosis
    return capture


def events(capture: Capture, action: str) -> list[dict]:
    return [e for e in capture.of("impairment") if e["action"] == action]


def test_intervals_are_the_set_events_that_did_something(impaired: Capture) -> None:
    truth = impairment_truth(impaired)
    assert truth is not None and truth.seed == 11
    sets = events(impaired, "set")
    assert [spec for _, spec in truth.changes] == ["none", "loss=20%", "none", "up:delay=30ms"]
    # "none" does nothing and is not shaded; each other set holds until the next, the last to the end
    assert [(i.start, i.end, i.spec) for i in truth.intervals] == [
        (sets[1]["t"], sets[2]["t"], "loss=20%"), (sets[3]["t"], impaired.duration, "up:delay=30ms")]
    assert truth.intervals[0].up == truth.intervals[0].down == {"loss_pct": 20.0}
    assert truth.intervals[1].up == {"delay_ms": 30.0} and truth.intervals[1].down == {}


def test_truth_next_to_the_measurement(impaired: Capture) -> None:
    truth = impairment_truth(impaired)
    assert truth is not None
    (summary,) = events(impaired, "summary")
    up, down = truth.directions
    for found, name in ((up, "up"), (down, "down")):
        recorded = summary[name]
        assert found.final and (found.packets, found.dropped_loss, found.dropped_queue, found.rtp_dropped,
                                found.delayed) == (recorded["packets"], recorded["dropped_loss"],
                                                   recorded["dropped_queue"], recorded["rtp_dropped"],
                                                   recorded["delayed"])
    assert down.dropped_loss > 0 and up.delayed > 0 and down.delayed == 0
    # received: the loss stopped at 2 s and the stream went on, so every drop lies between received
    # packets, and the probe's packetsLost of the echoed audio is exactly what the network dropped
    (inbound,) = last_reports(impaired, "inbound-rtp")
    (row,) = [s for s in down.ssrcs if s.ssrc == inbound["ssrc"]]
    assert row.lost == inbound["packetsLost"] == row.dropped == len(summary["down"]["rtp_drops"][str(row.ssrc)])
    assert row.dropped > 0 and down.measured_lost == row.lost
    # sent: what the target's receiver reports said (they may lag, never exceed what was dropped)
    (outbound,) = [s for s in up.ssrcs if s.lost is not None]
    assert outbound.dropped is not None and 0 <= outbound.lost <= outbound.dropped
    assert "remote-inbound-rtp" in up.measured_by and "inbound-rtp" in down.measured_by


def test_the_plot_shades_each_interval(impaired: Capture) -> None:
    truth = impairment_truth(impaired)
    assert truth is not None
    axes = Figure().subplots(4, 1, sharex=True)
    shade_impaired(axes, truth.intervals)
    for ax in axes:
        spans = [p.get_x() for p in ax.patches], [p.get_x() + p.get_width() for p in ax.patches]
        assert spans == ([i.start for i in truth.intervals], [i.end for i in truth.intervals])
    assert [t.get_text().strip() for t in axes[0].texts] == ["loss=20%", "up:delay=30ms"]


def test_report_has_the_table_and_the_shaded_plot(impaired: Capture, tmp_path: Path) -> None:
    truth = impairment_truth(impaired)
    assert truth is not None
    html = Path(write_report([impaired], tmp_path / "r.html").path).read_text()
    assert '<section id="impairment"' in html and 'href="#impairment"' in html
    assert "Shaded bands: the network was impaired" in html
    assert "<code>loss=20%</code>" in html and "<code>up:delay=30ms</code>" in html
    down = truth.directions[1]
    assert "<strong>down: probe receives</strong>" in html
    assert "packets lost, measured" in html and f">{down.dropped_loss:,}<" in html
    plain = write_report([load(impaired.path)], tmp_path / "again.html").path
    assert Path(plain).read_text().count('id="impairment"') == 1


def test_terminal_summary_has_a_line_per_direction(impaired: Capture) -> None:
    truth = impairment_truth(impaired)
    assert truth is not None
    console = Console(record=True, width=400)
    render_summary(path=impaired.path, reason=impaired.reason, diagnosis="", breakdown=connect_breakdown(impaired),
                   profile=None, feedback=feedback_counts(impaired), console=console, impairment=truth)
    lines = [line for line in console.export_text().splitlines() if line.startswith("  up (") or
             line.startswith("  down (")]
    up, down = truth.directions
    assert lines == [f"  up (probe sends): {up.did}; measured: {up.measured}",
                     f"  down (probe receives): {down.did}; measured: {down.measured}"]
    assert f"dropped {down.dropped} ({down.dropped_loss} random, 0 queue" in lines[1]


def test_a_capture_cut_before_its_summary(impaired: Capture, tmp_path: Path) -> None:
    kept = [e for e in impaired.events if not (e["event"] == "impairment" and e["action"] == "summary")
            and e["event"] != "end"]
    cut = Capture(impaired.path, impaired.header, kept, cut=True)
    truth = impairment_truth(cut)
    assert truth is not None and not any(d.final for d in truth.directions)
    (last,) = events(cut, "counts")[-1:]
    assert [d.packets for d in truth.directions] == [last["up"]["packets"], last["down"]["packets"]]
    assert all(s.dropped is None for d in truth.directions for s in d.ssrcs)  # only the summary lists drops
    html = Path(write_report([cut], tmp_path / "cut.html").path).read_text()
    assert "no impairment summary (cut short)" in html


@pytest.fixture
async def report_file(impaired: Capture, tmp_path: Path) -> AsyncIterator[Path]:
    yield Path(write_report([impaired], tmp_path / "impaired.html").path)
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.mark.browser
async def test_report_reads_in_chromium(chromium: Chromium, report_file: Path, tmp_path: Path) -> None:
    url = report_file.as_uri()
    async with chromium.open_page(url) as page:
        rows = await page.evaluate(
            "() => Array.from(document.querySelectorAll('#impairment table.impairment tbody tr'))"
            ".map(r => r.cells[0].innerText)")
        assert rows == ["up: probe sends", "down: probe receives"]
        decoded = await page.evaluate("() => Promise.all(Array.from(document.querySelectorAll('#streams img'))"
                                      ".map(i => i.decode().then(() => i.naturalWidth)))")
        assert decoded and all(w >= 600 for w in decoded)
        shot = await page.screenshot(tmp_path / "impaired-report.png")
        assert shot.stat().st_size > 20_000


def test_odd_impairment_events_render(impaired: Capture, tmp_path: Path) -> None:
    """Many changes and fields of the wrong type (a hand-edited or hostile capture): counted as
    nothing, never a traceback; the plot shades a bounded number of intervals and says so."""
    kept = [e for e in impaired.events if e["event"] != "impairment"]
    sets = [{"event": "impairment", "t": i * 0.01, "action": "set", "spec": f"loss={i % 3}%\x1b[31m$x$",
             "up": {"loss_pct": i % 3, "delay_ms": "slow"}, "down": [1]} for i in range(80)]
    summary = {"event": "impairment", "t": 1.0, "action": "summary", "down": None,
               "up": {"packets": "many", "rtp_drops": {"12": [1, 2], "x": 3, "13": "y"}}}
    odd = Capture(impaired.path, impaired.header, kept + sets + [summary])
    truth = impairment_truth(odd)
    assert truth is not None and len(truth.intervals) == 53  # loss=0% is no condition
    assert all(i.up == {"loss_pct": float(i.spec[5])} and i.down == {} for i in truth.intervals)
    (up,) = truth.directions
    assert up.packets == 0 and [(s.ssrc, s.dropped) for s in up.ssrcs if s.ssrc < 100] == [(12, 2)]
    html = Path(write_report([odd], tmp_path / "odd.html").path).read_text()
    assert "The plot shades the first 50 of 53 impaired intervals." in html

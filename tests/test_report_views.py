"""Views as a user without colour sees them (NO_COLOR, a pipe, a CI log): the meaning is in the text."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import matplotlib
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rtcprobe.analyze.diff import diff as diff_negotiations
from rtcprobe.analyze.streams import MIN_INTERVAL, stream_series
from rtcprobe.capture import Capture, load
from rtcprobe.importers import load_captures
from rtcprobe.inputs import load_negotiation
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.report import plots
from rtcprobe.report.html import write_report
from rtcprobe.report.html_multi import render_diff
from rtcprobe.server import ServerConfig, run_server

SDP = Path(__file__).parent / "data" / "realworld" / "sdp"
RTCPROBE = [sys.executable, "-m", "rtcprobe.cli"]


def diff(a: str, b: str) -> str:
    """`rtcprobe diff` on a pipe (not a terminal) with NO_COLOR: what a log keeps."""
    proc = subprocess.run([*RTCPROBE, "diff", str(SDP / a), str(SDP / b)], capture_output=True, text=True,
                          timeout=60, env={"NO_COLOR": "1", "COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" not in proc.stdout  # no colour at all: the markers carry it
    return proc.stdout


def marked(out: str, marker: str, text: str) -> bool:
    """A table row whose marker column holds `marker` and whose text holds `text`."""
    return any(line.split("│")[1].strip() == marker and text in line for line in out.splitlines() if line.count("│") > 2)


def test_diff_marks_added_removed_changed_without_colour() -> None:
    out = diff("aiortc-audio_chrome-1.sdp", "aiortc-audio_firefox-1.sdp")  # Chrome's offer vs Firefox's
    assert marked(out, "-", "codecs removed: isac/16000")
    assert marked(out, "+", "header extension added: mid")
    assert marked(out, "~", "fmtp stereo 0 → 1")
    assert marked(out, "-", "fmtp minptime 10 → none")
    assert marked(out, "-", "rtcp-fb transport-cc → none")  # an empty list is nothing, not a change
    assert marked(out, "~", "end-of-candidates")
    assert any(line.startswith("v ") and "ice-pwd changed" in line for line in out.splitlines())
    assert "no semantic change" not in out


def test_diff_says_no_semantic_change() -> None:
    out = diff("aiortc-audio_chrome-1.sdp", "aiortc-audio_chrome-1.sdp")
    assert "no semantic change" in out.splitlines()
    assert not any(marked(out, m, "") for m in "+-~")


# -- the HTML report's views of a real session ---------------------------------------------------

@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real probe session (audio and video both ways) against the reference target on loopback."""
    folder = tmp_path_factory.mktemp("views")

    async def run() -> Path:
        runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0))
        try:
            options = ProbeOptions(target=base + "/whip", output=folder / "c.jsonl", protocol="whip", video=True,
                                   duration=2.0, stats_interval=0.5)
            result = await ProbeSession(options).run()
        finally:
            await runner.cleanup()
        assert result.ok, result.diagnosis
        return Path(result.path)

    return asyncio.run(run())


def _with_sample_after(path: Path, out: Path, *, after_close: bool) -> Capture:
    """The capture with one more stats sample, counters unchanged, 1 s after the last: what a browser
    dump holds when it is saved after the hang-up (after_close) or during a one-interval stall (not)."""
    events = [json.loads(line) for line in path.read_text().splitlines()]
    last = [e for e in events if e["event"] == "stats"][-1]
    closed = next(e["t"] for e in events if e["event"] == "state" and e.get("machine") == "connection"
                  and e.get("state") == "closed")
    t = (closed if after_close else last["t"]) + 1.0
    extra = {**last, "t": t, "reports": [{**r, "timestamp": t} for r in last["reports"]]}
    kept = [e for e in events if e["event"] != "end"]
    if not after_close:  # a stall while connected: no BYE, no close before the sample
        kept = [e for e in kept if not (e["event"] == "rtcp" and e.get("packet_type") == "BYE")
                and not (e["event"] == "state" and e.get("state") == "closed")]
    out.write_text("\n".join(json.dumps(e) for e in [*kept, extra, {**events[-1], "t": t + 0.1}]) + "\n")
    return load(out)


def last_counters(capture: Capture) -> dict[int, int]:
    """Packets sent or received per SSRC in the capture's last stats sample."""
    return {r["ssrc"]: r["packetsSent" if r["type"] == "outbound-rtp" else "packetsReceived"]
            for r in capture.stats_samples[-1]["reports"] if r["type"] in ("outbound-rtp", "inbound-rtp")}


def test_the_last_sample_is_shown_even_right_after_the_previous_one(session: Path) -> None:
    """The teardown's sample comes moments after the last periodic one: too soon for a rate, but its
    counters are the session's totals, so they are the series' last point."""
    capture = load(session)
    for s in stream_series(capture):
        assert s.points[-1].packets == last_counters(capture)[s.ssrc], s.label


def test_sample_after_the_hang_up_is_no_drop_to_zero(session: Path, tmp_path: Path) -> None:
    before = {s.ssrc: s.points for s in stream_series(load(session))}
    after = stream_series(_with_sample_after(session, tmp_path / "after.jsonl", after_close=True))
    assert {s.ssrc for s in after} == set(before)
    for s in after:
        own = before[s.ssrc]
        folded = len(own) > 1 and own[-1].t - own[-2].t < MIN_INTERVAL  # the teardown's sample, counters only
        assert s.points[:-1] == (own[:-1] if folded else own), s.label  # the session's own intervals are untouched
        assert s.points[-1].bitrate_bps is None, s.label  # the senders stopped inside the interval: no rate
        assert s.points[-1].packets == before[s.ssrc][-1].packets  # its counters are still shown
    for s in stream_series(_with_sample_after(session, tmp_path / "stall.jsonl", after_close=False)):
        assert s.points[-1].bitrate_bps == 0.0, s.label  # a stall while connected is a real 0


def test_streams_named_by_kind_mid_and_codec(session: Path) -> None:
    labels = {s.label.rsplit(" (", 1)[0] for s in stream_series(load(session))}
    assert labels == {"sent audio mid 0 Opus", "sent video mid 1 VP8", "received audio mid 0 Opus",
                      "received video mid 1 VP8"}


def test_report_has_a_panel_per_stream_and_unbroken_addresses(session: Path, tmp_path: Path) -> None:
    html = Path(write_report([session], tmp_path / "r.html").path).read_text()
    streams = html[html.index('id="streams"'):html.index('id="rtcp"')]
    assert streams.count("<img") == 1 + 4  # the overview and one panel per stream
    for label in ("sent video mid 1 VP8", "received audio mid 0 Opus"):
        assert f'alt="{label} (' in streams
    candidates = html[html.index('id="candidates"'):html.index('id="extensions"')]
    assert candidates.count('<td class="addr">') >= 4 and '<span class="addr">' in candidates
    assert "td.addr" in html and "white-space: nowrap" in html


def test_log_axis_labels_are_plain_numbers() -> None:
    """Latencies from 2 ms to 2 s: a log axis, labelled 10, 100, 1,000 — not mathtext source."""
    figure = Figure()
    ax = figure.add_subplot()
    with matplotlib.rc_context({"text.parse_math": False}):  # as every report plot draws
        plots._strip(ax, [[0.002, 0.01], [0.5, 2.0]], ["a", "b"])
        FigureCanvasAgg(figure).draw()
        shown = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert ax.get_yscale() == "log"
    assert shown and not any("$" in t or "mathdefault" in t for t in shown), shown
    assert {"10", "100", "1,000"} <= set(shown), shown


def test_datachannel_axis_spans_the_messages() -> None:
    """A burst at 100..101 s of a 600 s capture is drawn on about 100..101 s, not 0..600."""
    assert plots._span([100.0, 100.5, 101.0], 600.0) == pytest.approx((99.95, 101.05))
    assert plots._span([], 3.0) == pytest.approx((0.0, 3.15))  # nothing happened: the session, padded


def test_report_diff_has_the_marker_column() -> None:
    """The multi-capture report's diff marks each change as the terminal does."""
    a, b = (load_negotiation(SDP / name) for name in ("aiortc-audio_chrome-1.sdp", "aiortc-audio_firefox-1.sdp"))
    html = str(render_diff(diff_negotiations(a, b, side="offer", labels=("chrome", "firefox"))))
    assert '<td class="num">-</td><td>codecs</td>' in html
    assert '<td class="num">+</td><td>extensions</td>' in html
    assert '<td class="num">~</td><td>fmtp</td>' in html


def test_frame_and_audio_gauges_from_a_chromium_dump() -> None:
    """Chromium's webrtc-internals dump (recorded here, tests/data/import-record-dumps.py): a sent
    stream's audio level comes from its media-source report, frame rate and size from the RTP report,
    each point the value of the sample at its time."""
    (capture, *_) = load_captures(Path(__file__).parent / "data" / "import-chromium-webrtc_internals_dump.gz")
    series = {s.label.rsplit(" (", 1)[0]: s for s in stream_series(capture)}
    for sample in capture.stats_samples[1:]:
        reports = {r["id"]: r for r in sample["reports"]}
        for report in reports.values():
            if report.get("type") not in ("outbound-rtp", "inbound-rtp"):
                continue
            stream = next(s for s in series.values() if s.ssrc == report["ssrc"] and
                          s.direction == ("sent" if report["type"] == "outbound-rtp" else "received"))
            point = next(p for p in stream.points if abs(p.t - report["timestamp"]) < 1e-6 or abs(p.t - sample["t"]) < 1e-6)
            source = reports.get(report.get("mediaSourceId"), {})
            assert point.audio_level == report.get("audioLevel", source.get("audioLevel"))
            assert point.frames_per_second == report.get("framesPerSecond", source.get("framesPerSecond"))
            assert point.frame_height == report.get("frameHeight", source.get("frameHeight"))
    assert any(p.audio_level for p in series["sent audio mid 0 Opus"].points)
    assert any(p.frames_per_second for p in series["received video mid 1 VP8"].points)

"""Reports opened in headless Chromium from file:// URLs, as a colleague would open a mail attachment:
no console errors, no network request, every plot decodes, the profile is there; and hostile SDP
and data-channel content runs nothing. Captures come from real sessions (the demo, and an echo
session whose data channel carries script payloads both ways)."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import BrowserPage, Chromium

from rtcprobe.commands.demo import run_demo
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.report.html import write_report
from rtcprobe.report.html_base import CSP
from rtcprobe.server import ServerConfig, run_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
#: A real Jitsi call through a TURN relay (rtcstats-server's dump): five streams, VP9 at 640x360.
JITSI = Path(__file__).parent / "data" / "realworld" / "dumps" / "jitsi-chrome-relay.gz"

FLAG = "__rtcprobe_pwned"
PAYLOADS = (f"<script>window.{FLAG}='script'</script>", f"<img src=x onerror=\"window.{FLAG}='img'\">",
            f"\"><svg onload=\"window.{FLAG}='svg'\"><script>window.{FLAG}='attr'</script>")


async def _echo_session_with_payloads(path: Path) -> Path:
    """A real session whose data channel (label and messages, echoed back) carries the payloads."""
    runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0))
    try:
        options = ProbeOptions(target=base + "/offer", output=path, protocol="sdp-post", datachannel=PAYLOADS[1],
                               send=[json.dumps({"type": p, "text": p}) for p in PAYLOADS] + list(PAYLOADS),
                               duration=1.0, stats_interval=0.5)
        return Path((await ProbeSession(options).run()).path)
    finally:
        await runner.cleanup()


def _with_hostile_sdp(path: Path) -> None:
    """The reference target writes clean SDP; a hostile service would not. Edit it into both descriptions."""
    lines = []
    for line in path.read_text().splitlines():
        event = json.loads(line)
        if event["event"] == "sdp":
            event["sdp"] = event["sdp"].replace(
                "s=-\r\n", f"s={PAYLOADS[0]}\r\na=x-evil:{PAYLOADS[1]}\r\na=tool:{PAYLOADS[2]}\r\n", 1)
        lines.append(json.dumps(event))
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    folder = tmp_path_factory.mktemp("browser-report")
    _, demo = asyncio.run(run_demo(2.0, folder, live=False))
    hostile = asyncio.run(_echo_session_with_payloads(folder / "hostile.jsonl"))
    _with_hostile_sdp(hostile)
    out = {"demo": Path(write_report([demo], folder / "demo.html").path),
           "hostile": Path(write_report([hostile], folder / "hostile.html").path),
           "jitsi": Path(write_report([JITSI], folder / "jitsi.html").path)}
    # the same report without its Content-Security-Policy: escaping alone must hold
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    text = out["hostile"].read_text()
    assert meta in text
    out["hostile-no-csp"] = folder / "hostile-no-csp.html"
    out["hostile-no-csp"].write_text(text.replace(meta, ""))
    yield out
    shutil.rmtree(folder, ignore_errors=True)


def _problems(page: BrowserPage) -> list[str]:
    return [line for line in page.console if line.startswith(("console.error", "console.warning", "pageerror"))]


async def test_demo_report_opens_offline_with_decoded_plots(chromium: Chromium, reports, tmp_path: Path) -> None:
    url = reports["demo"].as_uri()
    async with chromium.open_page(url) as page:
        sizes = await page.evaluate(
            "() => Promise.all(Array.from(document.images).map(i => i.decode().then(() => "
            "({w: i.naturalWidth, h: i.naturalHeight, data: i.src.startsWith('data:image/png;base64,')}))))")
        assert len(sizes) == 3 + 4  # waterfall, streams, data channel; a panel per stream (audio, video x2)
        assert all(s["data"] and s["w"] >= 600 and s["h"] >= 100 for s in sizes), sizes
        profile = await page.evaluate(
            "() => Array.from(document.querySelectorAll('#profile table.profile tbody tr'))"
            ".map(r => r.cells[0].innerText)")
        assert profile[:3] == ["PeerConnection", "ICE/TURN", "SRTP encryption"] and "Interface" in profile
        facts = await page.evaluate(
            "() => ({scripts: document.scripts.length, title: document.title.startsWith('rtcprobe report: demo-'),"
            " selected: document.querySelectorAll('#candidates tr.selected').length,"
            " sdpOpen: Array.from(document.querySelectorAll('#sdp details')).some(d => d.open)})")
        assert facts == {"scripts": 0, "title": True, "selected": 2, "sdpOpen": False}
        shot = await page.screenshot(tmp_path / "demo-report.png")
        assert shot.stat().st_size > 20_000
        assert page.requests == [url], "the report fetched something besides itself"
        assert _problems(page) == []


@pytest.mark.parametrize("variant", ["hostile", "hostile-no-csp"])
async def test_hostile_sdp_and_datachannel_payloads_run_nothing(chromium: Chromium, reports, variant: str) -> None:
    url = reports[variant].as_uri()
    async with chromium.open_page(url) as page:
        # open every <details>, so collapsed SDP and headers are parsed into live, rendered DOM too
        await page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
        facts = await page.evaluate(
            """(flag) => ({
                 flag: window[flag] === undefined ? null : String(window[flag]),
                 scripts: document.scripts.length,
                 handlers: Array.from(document.querySelectorAll('*')).filter(el =>
                   Array.from(el.attributes).some(a => a.name.toLowerCase().startsWith('on'))).length,
                 foreignImages: Array.from(document.images).filter(i => !i.src.startsWith('data:image/png')).length,
                 svg: document.querySelectorAll('svg').length,
                 text: document.body.innerText,
               })""", FLAG)
        assert facts["flag"] is None
        assert (facts["scripts"], facts["handlers"], facts["foreignImages"], facts["svg"]) == (0, 0, 0, 0)
        for payload in PAYLOADS:  # shown to the reader as text, in SDP, labels and messages
            assert payload in facts["text"]
        assert page.requests == [url]
        assert _problems(page) == []


async def test_stream_panels_and_addresses_in_a_real_call(chromium: Chromium, reports, tmp_path: Path) -> None:
    """The Jitsi call's report: a panel per stream named by kind, mid and codec, frame rate and
    resolution plotted from the browser's stats, every IP:port on one line, no console error."""
    url = reports["jitsi"].as_uri()
    async with chromium.open_page(url) as page:
        # a narrow window (a laptop's split screen): wide tables scroll, addresses still do not break
        await chromium.call(lambda: page.page.set_viewport_size({"width": 760, "height": 900}))
        facts = await page.evaluate(
            """() => ({
                 panels: Array.from(document.querySelectorAll('#streams img')).map(i => i.alt),
                 addresses: Array.from(document.querySelectorAll('td.addr, span.addr, div.pairs td:nth-child(-n+2)'))
                   .filter(el => el.innerText.trim())
                   .map(el => { const r = document.createRange(); r.selectNodeContents(el);
                                return [el.innerText, new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size]; }),
               })""")
        assert facts["panels"][1:] == [
            "received audio mid 0 (1914853159): its fields over time",
            "received video mid 1 (1680749614): its fields over time",
            "received video mid 2 VP9 (3475661459): its fields over time",
            "received video mid 3 VP9 (3859036835): its fields over time",
            "sent video mid 1 VP9 (2007858786): its fields over time"]
        assert facts["addresses"] and all(lines == 1 for _, lines in facts["addresses"]), facts["addresses"]
        text = await page.evaluate("() => document.querySelector('#streams table').innerText")
        assert "640×360" in text and "VP9" in text
        shot = await page.screenshot(tmp_path / "jitsi-report.png")
        assert shot.stat().st_size > 20_000
        assert page.requests == [url]
        assert _problems(page) == []

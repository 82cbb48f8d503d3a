"""The HTML report, read as HTML: every section, self-contained, escaped, anonymised on request,
failures first; plus `rtcprobe report` and the demo's report. Real captures from real sessions
(aiortc on both sides); hostile content is written into a copy of a real capture."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
import socket
import struct
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from rtcprobe.anonymize import AddressMap, anonymize
from rtcprobe.capture import load
from rtcprobe.cli import main
from rtcprobe.commands.demo import DEMO_MESSAGES
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.report.html import render_report, write_report
from rtcprobe.server import ServerConfig, run_server

pytestmark = pytest.mark.slow

ADVERTISED_V4 = "41.86.183.135"
ADVERTISED_V6 = "2a03:2880:f10d:83:face:b00c:0:25de"
SECTIONS = ("profile", "connect", "streams", "rtcp", "candidates", "extensions", "datachannel", "signaling", "sdp",
            "timeline")
#: Every tag the report may contain: anything else came from data that escaped escaping.
ALLOWED_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "h3", "h4", "p", "table", "thead",
                "tbody", "tr", "th", "td", "section", "details", "summary", "pre", "code", "img", "nav", "a", "ul",
                "li", "strong", "span", "div"}
FLAG = "__rtcprobe_pwned"
#: The label also carries mathtext, which matplotlib would parse (and fail on) in plot labels.
PAYLOADS = (f"<script>window.{FLAG}='script'</script>", f'<img src=x onerror="window.{FLAG}=\'img\'">$\\bad{{x}}$',
            f'"><svg onload="window.{FLAG}=\'svg\'">')


class Page(HTMLParser):
    """Tags with attributes, and the text inside each element id'd section."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def of(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.tags if tag == name]

    @property
    def ids(self) -> list[str]:
        return [attrs["id"] for _, attrs in self.tags if attrs.get("id")]


def _png_size(data_uri: str) -> tuple[int, int]:
    raw = base64.b64decode(data_uri.split(",", 1)[1], validate=True)
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", raw[16:24])


async def _session(path: Path, endpoint: str, protocol: str | None = "whip", knobs: dict | None = None,
                   url: str | None = None, **options: object) -> Path:
    runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0, **(knobs or {})))
    try:
        opts = ProbeOptions(target=url or base + endpoint, output=path, protocol=protocol, **options)  # type: ignore[arg-type]
        return Path((await ProbeSession(opts).run()).path)
    finally:
        await runner.cleanup()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    folder = tmp_path_factory.mktemp("report")
    rich = asyncio.run(_session(
        folder / "rich.jsonl", "/v1/realtime/calls", "openai",
        {"advertise_ips": [ADVERTISED_V4, ADVERTISED_V6], "loss_percent": 25, "seed": 3},
        video=True, video_size=(640, 360), fps=15, duration=1.5, stats_interval=0.5,
        send=[json.dumps(m) for m in DEMO_MESSAGES]))
    out = {
        "rich": rich,
        "http503": asyncio.run(_session(folder / "http503.jsonl", "/whip", knobs={"http_status": 503})),
        "garbage": asyncio.run(_session(folder / "garbage.jsonl", "/whip", knobs={"garbage_body": True})),
        "refused": asyncio.run(_session(folder / "refused.jsonl", "/whip",
                                        url=f"http://127.0.0.1:{_closed_port()}/whip")),
    }
    out["rich-copy"] = Path(shutil.copy(rich, folder / "rich-copy.jsonl"))
    out["hostile"] = _hostile_copy(rich, folder / "hostile.jsonl")
    out["folder"] = folder
    yield out
    shutil.rmtree(folder, ignore_errors=True)


def _hostile_copy(source: Path, target: Path) -> Path:
    """The real capture with script payloads wherever a server controls the text."""
    lines = []
    for n, line in enumerate(source.read_text().splitlines()):
        event = json.loads(line)
        name = event["event"]
        payload = PAYLOADS[n % len(PAYLOADS)]
        if name == "sdp":
            sdp = event["sdp"].replace("s=-\r\n", f"s={PAYLOADS[0]}\r\na=x-evil:{PAYLOADS[1]}\r\n", 1)
            event["sdp"] = sdp.replace("a=mid:0\r\n", f"a=mid:0\r\na=extmap:14 <script>window.{FLAG}='ext'</script>\r\n", 1)
        elif name == "dc_message":
            event.update(data=payload, label=PAYLOADS[1], json_type=PAYLOADS[2])
        elif name == "datachannel":
            event["label"] = PAYLOADS[1]
        elif name == "http":
            event.update(body_excerpt=PAYLOADS[0], location=PAYLOADS[2])
            event["response_headers"] = {**event.get("response_headers", {}), "X-Evil": PAYLOADS[1]}
        elif name == "end":
            event["diagnosis"] = f"the server said {PAYLOADS[0]}{PAYLOADS[1]}"
        lines.append(json.dumps(event))
    target.write_text("\n".join(lines) + "\n")
    return target


def _assert_safe(text: str) -> Page:
    page = Page(text)
    assert {tag for tag, _ in page.tags} <= ALLOWED_TAGS
    assert not [a for _, attrs in page.tags for a in attrs if a.lower().startswith("on")]
    for attrs in page.of("img"):
        assert (attrs["src"] or "").startswith("data:image/png;base64,")
    for attrs in page.of("a"):
        assert (attrs["href"] or "").startswith("#")
    assert "<script" not in text.lower() and "url(" not in text and "@import" not in text
    assert text.isascii()  # non-ASCII text is written as character references
    (csp,) = [a["content"] for a in page.of("meta") if a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    return page


def test_single_capture_report_has_every_section_and_plot(captures, tmp_path: Path) -> None:
    info = write_report([captures["rich"]], tmp_path / "r.html")
    text = Path(info.path).read_text()
    page = _assert_safe(text)
    assert info.captures == ["rich"] and not info.failed and info.bytes == Path(info.path).stat().st_size
    assert set(SECTIONS) <= set(page.ids) and "failure" not in page.ids
    images = page.of("img")
    assert len(images) == 3 + 4  # waterfall, streams, data-channel timing; a panel per stream
    for attrs in images:
        width, height = _png_size(attrs["src"] or "")
        assert width >= 600 and height >= 100
    profile_rows = re.search(r'<section id="profile">(.*?)</section>', text, re.S).group(1)  # type: ignore[union-attr]
    for aspect in ("PeerConnection", "ICE/TURN", "Audio", "Video", "DataChannels", "RTCP", "Interface"):
        assert f"<strong>{aspect}</strong>" in profile_rows
    rtcp = re.search(r'<section id="rtcp">(.*?)</section>', text, re.S).group(1)  # type: ignore[union-attr]
    assert re.search(r'<tr class="changed"><td>NACK</td><td class="num">[1-9]', rtcp), "seeded loss, no NACK row"


def test_selected_pair_and_extensions_on_the_wire(captures) -> None:
    capture = load(captures["rich"])
    text = render_report([capture])
    selected = re.findall(r'<tr class="selected">(.*?)</tr>', text)
    assert len(selected) == 2 and all("&#10004; selected" in row for row in selected)
    # ::1 or 127.0.0.1, whichever ICE settled on: the highlighted rows are the pair it sends on
    host, port = capture.of("selected_pair")[-1]["local"].split("/")[0].rsplit(":", 1)
    assert host in selected[0] and f'<td class="num">{port}</td>' in selected[0]
    extensions = re.search(r'<section id="extensions">(.*?)</section>', text, re.S).group(1)  # type: ignore[union-attr]
    rows = re.findall(r"<tr>(.*?)</tr>", extensions)  # rows not highlighted: negotiated and seen alike
    assert rows and all(row.count(">yes<") == 3 for row in rows[1:])


def test_hostile_text_is_escaped_everywhere(captures) -> None:
    text = render_report([captures["hostile"]])
    page = _assert_safe(text)
    shown = "".join(page.text)
    for payload in PAYLOADS:
        assert payload in shown  # displayed as text, in full
    assert f"&lt;script&gt;window.{FLAG}" in text
    assert text.count("<h1>") == 1


def test_failed_captures_lead_with_failure_and_diagnosis(captures) -> None:
    for name, words in (("http503", "503"), ("refused", "cannot connect"), ("garbage", "expected an SDP answer")):
        capture = load(captures[name])
        assert capture.reason == "http", capture.diagnosis
        text = render_report([capture])
        page = _assert_safe(text)
        first_section = next(attrs for tag, attrs in page.tags if tag == "section")
        assert first_section == {"id": "failure", "class": "failure"}
        banner = re.search(r'<section id="failure" class="failure">(.*?)</section>', text, re.S).group(1)  # type: ignore[union-attr]
        assert "signaling (HTTP)" in banner and words in banner
        assert text.index('id="failure"') < text.index('id="profile"')
        assert "answered None" not in text
    garbage = render_report([captures["garbage"]])
    assert "&lt;h1&gt;502 Bad Gateway&lt;/h1&gt;" in garbage and garbage.count("<h1>") == 1


def test_anonymize_maps_addresses_consistently_across_the_report(captures) -> None:
    text = render_report([captures["rich"], captures["rich-copy"]], anonymize_addresses=True)
    _assert_safe(text)
    assert ADVERTISED_V4 not in text and "2a03:2880" not in text.lower()
    assert "127.0.0.1" in text  # loopback says nothing about anyone: kept
    v4 = set(re.findall(r'<td class="addr">(198\.51\.100\.\d+|203\.0\.113\.\d+)</td>', text))
    v6 = set(re.findall(r'<td class="addr">(2001:db8::[0-9a-f]+)</td>', text))
    assert len(v4) == 1 and len(v6) == 1, (v4, v6)  # one stand-in each, in both captures' candidate tables
    (a4,), (a6,) = v4, v6
    assert text.count(f"{a4} 3478 typ host") >= 2 and text.count(f"{a6} 443 typ host") >= 2  # in both SDPs


def test_address_map_reads_addresses_in_any_text() -> None:
    addresses = AddressMap()
    fingerprint = "a=fingerprint:sha-256 1B:C3:F2:49:02:6E:41:6C:21:CE:39:16:7F:94:10:66:3F:9F:9B:B8:3F:B3:C4:C7"
    text = (f"c=IN IP4 {ADVERTISED_V4}\r\n{fingerprint}\r\nremote {ADVERTISED_V4}:3478/udp "
            f"[{ADVERTISED_V6.upper()}]:443 {ADVERTISED_V6}:3478/udp http://10.1.2.3:8080/x at 10.1.2.3. "
            "0.0.0.0 ::1 127.0.0.1 ver 1.16.0 Date 06:32:44 t=1.130504")
    out = addresses.text(text)
    v4, v6, private = (addresses.mapping[a] for a in (ADVERTISED_V4, ADVERTISED_V6, "10.1.2.3"))
    assert out == (f"c=IN IP4 {v4}\r\n{fingerprint}\r\nremote {v4}:3478/udp [{v6}]:443 {v6}:3478/udp "
                   f"http://{private}:8080/x at {private}. 0.0.0.0 ::1 127.0.0.1 ver 1.16.0 Date 06:32:44 t=1.130504")
    assert addresses.text(out) == out  # stand-ins are never mapped again
    event = {"address": ADVERTISED_V4, "pairs": [{"remote": f"{ADVERTISED_V4}:3478/udp"}], "port": 3478}
    assert anonymize(event, addresses) == {"address": v4, "pairs": [{"remote": f"{v4}:3478/udp"}], "port": 3478}


def test_address_map_reads_stun_and_turn_uris() -> None:
    addresses = AddressMap()
    out = addresses.text(f"<turn:{ADVERTISED_V4}:3478?transport=udp>; rel=\"ice-server\", <stuns:[{ADVERTISED_V6}]:443>")
    v4, v6 = (addresses.mapping[a] for a in (ADVERTISED_V4, ADVERTISED_V6))
    assert out == f"<turn:{v4}:3478?transport=udp>; rel=\"ice-server\", <stuns:[{v6}]:443>"


def test_multi_capture_report_diffs_and_distributions(captures) -> None:
    text = render_report([captures["rich"], captures["rich-copy"], captures["http503"]])
    page = _assert_safe(text)
    assert {"failures", "captures", "distributions", "diffs", "c1-capture", "c2-capture", "c3-capture",
            "c1-profile", "c3-failure"} <= set(page.ids)
    assert text.index('id="failures"') < text.index('id="captures"')
    diffs = unescape(re.search(r'<section id="diffs">(.*?)</section>', text, re.S).group(1))  # type: ignore[union-attr]
    assert "rich → rich-copy: no semantic change" in diffs and "Candidate sets" in diffs
    assert "rich → http503" in diffs
    distributions = re.search(r'<section id="distributions">(.*?)</section>', text, re.S).group(1)  # type: ignore[union-attr]
    (src,) = re.findall(r'src="([^"]+)"', distributions)
    assert _png_size(src)[0] >= 600


def test_report_command(captures, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "shared" / "both.html"
    code = main(["report", str(captures["rich"]), str(captures["http503"]), "-o", str(out), "--anonymize", "--json"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["report"] == str(out) and document["captures"] == ["rich", "http503"]
    assert document["failed"] == ["http503"] and document["anonymized"] and document["addresses_replaced"] >= 2
    assert out.stat().st_size == document["bytes"] and ADVERTISED_V4 not in out.read_text()
    monkeypatch.chdir(tmp_path)
    assert main(["report", str(captures["folder"] / "rich*.jsonl")]) == 0
    assert "reports/rich-copy-and-1-more.html" in capsys.readouterr().out  # named after the first (sorted)
    assert (tmp_path / "reports" / "rich-copy-and-1-more.html").exists()
    not_capture = tmp_path / "offer.sdp"
    not_capture.write_text("v=0\r\n")
    assert main(["report", str(not_capture)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"rtcprobe: error: {not_capture}") and "\n" not in error
    assert main(["report", str(captures["rich"]), "-o", str(tmp_path / "x.pdf")]) == 2


def test_demo_writes_and_prints_its_report(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--duration", "1", "--no-live"]) == 0
    assert "report: reports/demo.html" in capsys.readouterr().out
    page = _assert_safe((tmp_path / "reports" / "demo.html").read_text())
    assert set(SECTIONS) <= set(page.ids)

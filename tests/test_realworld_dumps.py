"""Dumps real users have, from public repositories (tests/data/realworld/dumps, SOURCES names each):
Jitsi's rtcstats-server dumps and the original rtcstats JSON are imported; and reports of any dump
(these and the Chromium dumps recorded here, tests/data/import-chromium-*.gz) claim only what a dump
can know: RTCP feedback from getStats counters, header extensions "not observable", data channels
from `data-channel` stats. `--anonymize` replaces candidate host names too.

Expected numbers are read from the raw files by the simplest possible reading (the last line that
states a value), independently of the importers' decompression.
"""

from __future__ import annotations

import gzip
import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from rtcprobe.analyze.feedback import feedback_counts
from rtcprobe.analyze.messages import data_channels
from rtcprobe.analyze.wire import extension_report
from rtcprobe.cli import main
from rtcprobe.errors import InputError
from rtcprobe.importers import detect, load_captures
from rtcprobe.report.html import render_report

DATA = Path(__file__).resolve().parent / "data"
DUMPS = DATA / "realworld" / "dumps"
JITSI_CHROME = DUMPS / "jitsi-chrome-relay.gz"  # Chrome 117, meet.jit.si: data channel, PLI/NACK, no SDP
JITSI_FIREFOX = DUMPS / "jitsi-firefox-relay.gz"  # Firefox 118, meet.jit.si
JITSI_P2P = DUMPS / "jitsi-google-standard-stats-relay-p2p.gz"  # Chrome 116, 2 PCs with SDP
RTCSTATS_JSON = DUMPS / "rtcstats-clienttest.json.gz"  # original rtcstats JSON, Chromium 48
CHROMIUM = DATA / "import-chromium-rtcstats_dump.gz"  # recorded here (tests/data/import-record-dumps.py)


def raw_lines(path: Path) -> list[list[Any]]:
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).decode().splitlines() if line.strip()]


def by_pc(path: Path) -> dict[str, Any]:
    return {c.header["options"]["pc"]: c for c in load_captures(path)}


def section_text(html: str, name: str) -> str:
    """The visible text of one report section."""
    match = re.search(rf'<section id="{name}".*?</section>', html, re.S)
    assert match, name
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", match.group(0))))


# -- Jitsi rtcstats-server dumps ----------------------------------------------------------------


@pytest.mark.parametrize("path", [JITSI_CHROME, JITSI_FIREFOX, JITSI_P2P], ids=lambda p: p.name)
def test_jitsi_dumps_are_found_by_content_and_imported(path: Path) -> None:
    assert detect(path) == "rtcstats-server"
    lines = raw_lines(path)
    pcs = list(dict.fromkeys(str(item[1]) for item in lines if item[1] is not None))
    captures = by_pc(path)
    assert list(captures) == pcs
    for key, capture in captures.items():
        assert capture.protocol == "import-rtcstats-server"
        assert capture.reason == "completed"
        stats_lines = [item for item in lines if item[0] == "getstats" and item[1] == key]
        assert len(capture.stats_samples) == len(stats_lines)
        first = min(item[3] for item in lines if item[1] == key)  # absolute epoch ms on every line
        assert capture.header["started_at_epoch"] == pytest.approx(first / 1000.0)
        assert capture.header["options"]["user_agent"].startswith("Mozilla/5.0")


def test_jitsi_delta_compressed_stats_are_whole_again() -> None:
    """Every counter's last value is the last one a line stated; a report missing from the last line
    was removed (Jitsi's rule), so the last sample holds exactly the last line's reports."""
    lines = raw_lines(JITSI_CHROME)
    stated: dict[tuple[str, str], Any] = {}
    for item in lines:
        if item[0] == "getstats":
            for stats_id, report in item[2].items():
                if isinstance(report, dict):
                    stated.update({(stats_id, k): v for k, v in report.items() if k != "timestamp"})
    last_line = [item for item in lines if item[0] == "getstats"][-1][2]
    capture = by_pc(JITSI_CHROME)["PC_0"]
    last = {r["id"]: r for r in capture.last_stats()}
    assert set(last) == {k for k, v in last_line.items() if isinstance(v, dict)}
    inbound = [r for r in last.values() if r["type"] == "inbound-rtp"]
    assert len(inbound) >= 3
    for report in inbound:
        for name in ("packetsReceived", "bytesReceived", "packetsLost", "nackCount", "pliCount"):
            if (report["id"], name) in stated:
                assert report[name] == stated[(report["id"], name)], (report["id"], name)
    top = last_line["timestamp"]
    assert all(r["timestamp"] <= capture.duration + 1 for r in last.values())
    assert any(r["timestamp"] == pytest.approx((top / 1000.0) - capture.header["started_at_epoch"], abs=1e-3)
               for r in last.values())


def test_jitsi_dump_with_sdp_is_a_negotiation() -> None:
    captures = by_pc(JITSI_P2P)
    offerer, answerer = captures["PC_0"], captures["PC_1"]
    assert (offerer.local_description.type, offerer.remote_description.type) == ("offer", "answer")
    assert (answerer.local_description.type, answerer.remote_description.type) == ("answer", "offer")
    trickled = {item[2]["candidate"] for item in raw_lines(JITSI_P2P)
                if item[0] == "onicecandidate" and item[1] == "PC_0" and item[2]}
    assert len(offerer.candidate_list("local")) == len(trickled) == 9
    assert offerer.problems == []


def test_jitsi_dump_without_sdp_says_so() -> None:
    capture = by_pc(JITSI_CHROME)["PC_0"]
    assert capture.offer is None and capture.answer is None
    assert any("holds no SDP" in p for p in capture.problems)


# -- the original rtcstats JSON --------------------------------------------------------------------


def test_original_rtcstats_json_is_imported_with_w3c_names() -> None:
    assert detect(RTCSTATS_JSON) == "rtcstats-json"
    dump = json.loads(gzip.decompress(RTCSTATS_JSON.read_bytes()))
    captures = by_pc(RTCSTATS_JSON)
    assert list(captures) == list(dump["peerConnections"]) == ["PC_0", "PC_1"]
    answerer = captures["PC_1"]
    assert answerer.protocol == "import-rtcstats-json" and answerer.reason == "completed"
    assert answerer.header["started_at"].startswith("2016-01-28T18:24:20")
    assert (answerer.local_description.type, answerer.remote_description.type) == ("answer", "offer")
    raw_last = [e for e in dump["peerConnections"]["PC_1"] if e["type"] == "getStats"][-1]["value"]
    last = {r["id"]: r for r in answerer.last_stats()}
    # early-spec "inboundrtp" + mediaType became inbound-rtp + kind; isRemote "outboundrtp" is remote-outbound-rtp
    for stats_id, raw in raw_last.items():
        if raw.get("type") == "inboundrtp" and not raw.get("isRemote"):
            assert last[stats_id]["type"] == "inbound-rtp" and last[stats_id]["kind"] == raw["mediaType"]
            assert last[stats_id]["packetsReceived"] == raw["packetsReceived"]
        if raw.get("type") == "outboundrtp" and raw.get("isRemote"):
            assert last[stats_id]["type"] == "remote-outbound-rtp"
    assert not [r for r in last.values() if r["type"] in ("ssrc", "googTrack", "VideoBwe")]
    assert any("pre-standard stats reports left out" in p and "ssrc" in p for p in answerer.problems)


# -- the commands take them, with --pc -------------------------------------------------------------


@pytest.mark.parametrize("path", [JITSI_P2P, RTCSTATS_JSON], ids=lambda p: p.name)
def test_analyze_diff_import_and_report_take_them(path: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["analyze", str(path), "--pc", "PC_1", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["profile"][0]["aspect"] == "PeerConnection"
    assert main(["diff", str(path), str(path), "--pc", "PC_0", "--json", "--exit-code"]) == 0
    assert json.loads(capsys.readouterr().out)["semantic_change"] is False
    assert main(["import", str(path), "-o", str(tmp_path / "out"), "--pc", "PC_0"]) == 0
    assert [p.name.endswith("-PC_0.jsonl") for p in (tmp_path / "out").iterdir()] == [True]
    capsys.readouterr()
    report = tmp_path / "r.html"
    assert main(["report", str(path), "--pc", "PC_1", "-o", str(report), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    (capture_id,) = document["captures"]
    assert capture_id == f"{path.name.split('.')[0]}#PC_1"
    sources = document["sources"][capture_id]  # every section says where its numbers come from
    assert sources["rtcp"]["source"] == "stats" and sources["extensions"]["source"] == "sdp"
    assert "not observable in a dump" in sources["extensions"]["note"]


# -- bad variants: one clear line -------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_bad_rtcstats_server_lines_are_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    text = gzip.decompress(JITSI_CHROME.read_bytes()).decode().splitlines()
    text.insert(9, '{"not": "an array"}')
    text.insert(20, "[1, 2]")
    path = _write(tmp_path, "broken.txt", "\n".join(text) + "\n")
    (capture,) = load_captures(path)
    assert f"{path}: line(s) 10, 21 skipped: expected one JSON array per line: [method, connection id, value, " \
           "timestamp]" in capture.problems
    only_page = _write(tmp_path, "page.txt", '["connectionInfo",null,{"url":"https://x"},1697705722151]\n'
                                             '["identity",null,{},1697705722152]\n')
    with pytest.raises(InputError, match="not an rtcstats-server dump with PeerConnection lines"):
        load_captures(only_page)
    assert main(["analyze", str(only_page)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(only_page) in err and "Traceback" not in err
    with pytest.raises(InputError, match=r"no PeerConnection 'PC_9' in this dump \(it has PC_0\)"):
        load_captures(JITSI_CHROME, pc="PC_9")


@pytest.mark.parametrize(("body", "expected"), [
    ('{"url": "x", "peerConnections": {}}', "no PeerConnections in this rtcstats JSON dump"),
    ('{"url": "x", "peerConnections": {"PC_0": "oops"}}', "no readable PeerConnection trace"),
    ('{"url": "x", "peerConnections": {"PC_0": [{"type": "create"}]}}', "no readable PeerConnection trace"),
])
def test_bad_rtcstats_json_is_one_clear_line(tmp_path: Path, capsys: pytest.CaptureFixture, body: str,
                                              expected: str) -> None:
    path = _write(tmp_path, "dump.json", body)
    assert detect(path) == "rtcstats-json"
    with pytest.raises(InputError, match=expected):
        load_captures(path)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and expected in err


def test_rtcstats_json_found_past_the_first_4_kb(tmp_path: Path) -> None:
    """A long getUserMedia list pushes "peerConnections" out of the sniffed head: still this format."""
    dump = json.loads(gzip.decompress(RTCSTATS_JSON.read_bytes()))
    reordered = {"PeerConnections": {}, "getUserMedia": dump["getUserMedia"] * 20, "url": dump["url"],
                 "peerConnections": dump["peerConnections"]}
    path = _write(tmp_path, "long.json", json.dumps(reordered))
    assert [c.protocol for c in load_captures(path)] == ["import-rtcstats-json"] * 2


# -- reports of dumps claim only what a dump can know ------------------------------------------------


def test_rtcp_feedback_of_a_dump_comes_from_getstats_counters() -> None:
    lines = raw_lines(JITSI_CHROME)
    stated: dict[tuple[str, str], Any] = {}
    types: dict[str, str] = {}
    for item in lines:
        if item[0] == "getstats":
            for stats_id, report in item[2].items():
                if isinstance(report, dict):
                    types[stats_id] = report.get("type", types.get(stats_id, ""))
                    stated.update({(stats_id, k): v for k, v in report.items()})
    expected_pli_sent = sum(v for (i, k), v in stated.items() if k == "pliCount" and types[i] == "inbound-rtp")
    expected_pli_received = sum(v for (i, k), v in stated.items() if k == "pliCount" and types[i] == "outbound-rtp")
    capture = by_pc(JITSI_CHROME)["PC_0"]
    counts = feedback_counts(capture)
    assert counts.source == "stats"
    assert (counts.sent["PLI"], counts.received["PLI"]) == (expected_pli_sent, expected_pli_received) == (3, 18)
    assert counts.sent["NACK"] > 0
    assert [name for name, _, _ in counts.rows()] == ["NACK", "PLI", "FIR"]  # SR/RR/REMB are not in stats
    text = section_text(render_report([capture]), "rtcp")
    assert "From getStats counters (no packets in a dump)" in text
    assert "PLI 3 18" in text


def test_rtcp_of_a_chromium_dump_recorded_here() -> None:
    capture = by_pc(CHROMIUM)["10-1"]  # audio only: no stream reports PLI or FIR
    counts = feedback_counts(capture)
    assert counts.source == "stats" and counts.sent.get("PLI") is None
    assert ("PLI", None, None) in counts.rows()  # unknown, not zero


@pytest.mark.parametrize(("path", "pc"), [(JITSI_P2P, "PC_1"), (CHROMIUM, "9-1")])
def test_header_extensions_of_a_dump_are_not_observable(path: Path, pc: str) -> None:
    capture = by_pc(path)[pc]
    found = extension_report(capture)
    assert found.source == "sdp" and found.rows
    assert all(u.negotiated and u.sent is None and u.received is None and not u.differs for u in found.rows)
    html = render_report([capture])
    text = section_text(html, "extensions")
    assert "not observable in a dump" in text and "never" not in text
    extensions = re.search(r'<section id="extensions".*?</section>', html, re.S).group(0)
    assert 'class="changed"' not in extensions


def test_extensions_of_a_dump_without_sdp_are_unknown() -> None:
    found = extension_report(by_pc(JITSI_CHROME)["PC_0"])
    assert found.source == "none" and not found.rows
    assert "holds no SDP" in section_text(render_report([by_pc(JITSI_CHROME)["PC_0"]]), "extensions")


@pytest.mark.parametrize(("path", "pc", "label", "sent", "received"), [
    (JITSI_CHROME, "PC_0", "JVB data channel", 16, 28), (JITSI_FIREFOX, "PC_0", None, 5, 12),
    (CHROMIUM, "9-1", "rtcprobe", 0, 0)])
def test_an_open_data_channel_in_the_stats_is_reported(path: Path, pc: str, label: str | None, sent: int,
                                                       received: int) -> None:
    capture = by_pc(path)[pc]
    found = data_channels(capture)
    assert found.source == "stats" and found.opened
    (channel,) = [c for c in found.channels if c.state == "open"]
    assert (channel.messages_sent, channel.messages_received) == (sent, received)
    if label is not None:
        assert channel.label == label
    text = section_text(render_report([capture]), "datachannel")
    assert "No data channel was opened" not in text
    assert "From getStats data-channel reports" in text and " open " in text


# -- --anonymize: candidate host names ----------------------------------------------------------------


def test_anonymize_replaces_candidate_host_names(tmp_path: Path) -> None:
    """A real dump whose candidates are given host names where addresses stood (no public dump has an
    FQDN candidate): names are replaced consistently, UUID mDNS names kept, device mDNS names not."""
    uuid_name = "3f2c9c1e-7b1d-4a5e-9f3a-2b7c8d9e0f11.local"
    text = gzip.decompress(JITSI_P2P.read_bytes()).decode()
    text = text.replace("193.122.0.59", "turn.relay.example.com")  # every relay candidate and the SDP
    text = text.replace("UDP 2122260223 x.x.x.x 54829", f"UDP 2122260223 {uuid_name} 54829")
    text = text.replace("UDP 2122194687 x.x.x.x 61559", "UDP 2122194687 Janes-MacBook.local 61559")
    path = tmp_path / "named.txt"
    path.write_text(text)
    capture = by_pc(path)["PC_0"]
    html = render_report([capture], anonymize_addresses=True)
    plain = unescape(html)
    assert "turn.relay.example.com" not in plain and "Janes-MacBook" not in plain
    assert uuid_name in plain
    candidates = section_text(html, "candidates")
    names = set(re.findall(r"host-\d+\.anonymized\.(?:invalid|local)", plain))
    assert len(names) == 2, names
    relay_name = next(n for n in names if n.endswith(".invalid"))
    # PC_0's two relay candidates, the two it was given, and the selected pair (from local-candidate stats)
    assert candidates.count(relay_name) == 5
    assert f"Selected pair: {relay_name}:60534/udp" in candidates
    assert "x.x.x.x" in candidates  # Jitsi's own redaction stays as it is
    assert f"{relay_name} 52397 typ relay" in plain  # the same stand-in in the candidate events' text


def test_json_of_the_analyzers_carries_the_source() -> None:
    from rtcprobe.report.jsonout import to_jsonable

    capture = by_pc(JITSI_CHROME)["PC_0"]
    assert to_jsonable(feedback_counts(capture))["source"] == "stats"
    assert to_jsonable(extension_report(capture))["source"] == "none"
    channels = to_jsonable(data_channels(capture))
    assert channels["source"] == "stats" and channels["channels"][0]["messages_received"] == 28


def test_overview_of_several_dumps_shows_unknown_nacks_as_unknown() -> None:
    html = render_report([JITSI_P2P, JITSI_CHROME])  # three PeerConnections of two dumps
    text = section_text(html, "captures")
    assert "jitsi-google-standard-stats-relay-p2p#PC_0 import-rtcstats-server" in text
    assert re.search(r"relay-p2p#PC_0 .*? — / — jitsi", text)  # no stream counts NACKs there
    assert text.rstrip().endswith("39 / 0")  # Chrome on meet.jit.si sent 39 NACKs (inbound-rtp nackCount)


def test_overview_names_the_browser_that_recorded_a_dump() -> None:
    text = section_text(render_report([JITSI_CHROME]).replace("<table", '<section id="ov"><table', 1)
                        .replace("</table>", "</table></section>", 1), "ov")
    assert "recorded by Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)" in text
    assert "dump format rtcstats-server; imported by rtcprobe" in text and "aiortc" not in text


@pytest.mark.parametrize("path", [JITSI_P2P, RTCSTATS_JSON], ids=lambda p: p.name)
def test_library_entry_points_take_them(path: Path) -> None:
    import rtcprobe

    (negotiation,) = rtcprobe.load_negotiations(path, "PC_1")
    assert negotiation.answer is not None and negotiation.offer is not None
    assert [c.id.split("#")[1] for c in load_captures(path, pc="PC_0")] == ["PC_0"]


@pytest.mark.parametrize(("name", "expected"), [
    ("rtcstats-gumonly.jsonl", "holds no PeerConnection events (only page events such as getUserMedia)"),
    ("rtcstats-internals-gumonly.gz", "no PeerConnections: nothing to import"),
])
def test_getusermedia_only_dumps_are_one_clear_line(name: str, expected: str, capsys: pytest.CaptureFixture) -> None:
    """rtcstats' own fixtures of a page that never made a PeerConnection; the first is named `.jsonl`,
    as rtcstats names its dumps, and must be read as a dump, not as a capture."""
    path = DUMPS / name
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and expected in err and "capture header" not in err


def test_rtcstats_dump_named_jsonl_and_an_imported_capture_without_sdp(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture) -> None:
    named = tmp_path / "call.jsonl"
    named.write_bytes(JITSI_P2P.read_bytes())
    assert main(["analyze", str(named), "--pc", "PC_0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["profile"][0]["aspect"] == "PeerConnection"
    assert main(["import", str(JITSI_CHROME), "-o", str(tmp_path / "out")]) == 0
    (written,) = (tmp_path / "out").iterdir()
    capsys.readouterr()
    assert main(["analyze", str(written)]) == 2  # a capture of a dump that left out its SDP
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "holds no session description" in err
    report = tmp_path / "r.html"
    assert main(["report", str(written), "-o", str(report)]) == 0  # the report has what the capture holds
    assert "JVB data channel" in report.read_text()


@pytest.mark.parametrize("name", ["jitsi-firefox-relay.gz", "jitsi-chrome-relay.gz"])
def test_addresses_the_recorder_masked_are_redacted_not_hostnames_nor_malformed(name: str) -> None:
    """Jitsi's rtcstats writes `x.x.x.x` and `x:x:x:x:x:x:x:x` for every candidate address."""
    from rtcprobe.analyze.connection import session_candidates

    rows = [c.row for c in session_candidates(load_captures(DUMPS / name, stats=False)[0])]
    masked = [r for r in rows if r.address.startswith("x")]
    assert masked and all(r.address_family == "redacted" and not r.anomalies for r in masked)

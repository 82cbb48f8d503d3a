"""chrome://webrtc-internals dumps and RTCStatsDump files: the layout details importers in the field
got wrong, bad input, and the CLI.

Real-world input comes from `tests/data/import-chromium-*.gz`, downloaded from Chromium 156's
chrome://webrtc-internals by `tests/data/import-record-dumps.py` (tab 9-1 offers to the reference
target over WHIP; tab 10-1 answers an aiortc offer and is then closed). Older layouts, which no
browser here can produce, are written out in the tests in the shape Chromium's own source gives.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import rtcprobe
from rtcprobe.cli import main
from rtcprobe.errors import InputError
from rtcprobe.importers import load_captures, write_captures
from rtcprobe.importers.rtcstatsdump import decompress_description, decompress_stats
from rtcprobe.importers.series import split_key

DATA = Path(__file__).resolve().parent / "data"
INTERNALS = DATA / "import-chromium-webrtc_internals_dump.gz"
RTCSTATS = DATA / "import-chromium-rtcstats_dump.gz"
OFFER = (DATA / "chromium-offer.sdp").read_bytes().decode()
CANDIDATE = "candidate:1 1 udp 2122260223 192.0.2.7 50000 typ host generation 0"


def by_key(captures: list[rtcprobe.Capture]) -> dict[str, rtcprobe.Capture]:
    return {c.header["options"]["pc"]: c for c in captures}


def samples(capture: rtcprobe.Capture) -> dict[tuple[str, float], dict[str, Any]]:
    """Every stats report of a capture by (id, timestamp)."""
    return {(r["id"], r["timestamp"]): r for s in capture.stats_samples for r in s["reports"]}


# -- real dumps from Chromium -------------------------------------------------------------------


@pytest.mark.parametrize("path", [INTERNALS, RTCSTATS], ids=["webrtc-internals", "rtcstatsdump"])
def test_chromium_dump_becomes_one_capture_per_peer_connection(path: Path) -> None:
    captures = by_key(load_captures(path))
    assert set(captures) == {"9-1", "10-1"}
    offerer, answerer = captures["9-1"], captures["10-1"]
    for capture in (offerer, answerer):
        assert capture.protocol == ("import-webrtc-internals" if path == INTERNALS else "import-rtcstatsdump")
        assert capture.problems == []
        assert capture.reason == "completed" and not capture.cut
        assert capture.state_reached("connection", "connected") is not None
        assert 0.0 <= capture.events[0]["t"] < 1.0  # t = 0 is the first thing the browser logged
        assert capture.header["started_at"].startswith("2026-")
    # Chromium offered on 9-1 and answered on 10-1: the *local* description is the answer there
    assert (offerer.local_description.type, offerer.remote_description.type) == ("offer", "answer")
    assert (answerer.local_description.type, answerer.remote_description.type) == ("answer", "offer")
    assert "aiortc" not in answerer.answer.text and answerer.offer.origin.username == "-"
    # Chromium trickles its candidates: they are candidate events, not lines of its offer
    assert offerer.candidate_list("local") and not offerer.offer.candidates
    assert offerer.candidate_list("remote") == offerer.answer.candidates
    assert [s for _, s in answerer.states("connection")][-1] == "closed"


def test_both_download_formats_hold_the_same_session() -> None:
    """The two downloads of one webrtc-internals page are fed by the same getStats() calls, so every
    sample both hold must agree value for value: this pins the series alignment and the numbers
    webrtc-internals turns back into strings (mid "0" is written as 0)."""
    internals, rtcstats = (by_key(load_captures(p))["9-1"] for p in (INTERNALS, RTCSTATS))
    assert internals.offer.text == rtcstats.offer.text and internals.answer.text == rtcstats.answer.text
    assert internals.candidate_list("local") == rtcstats.candidate_list("local")
    shift = internals.header["started_at_epoch"] - rtcstats.header["started_at_epoch"]
    a = {(i, round(t + shift, 3)): r for (i, t), r in samples(internals).items()}
    b = {(i, round(t, 3)): r for (i, t), r in samples(rtcstats).items()}
    common = set(a) & set(b)
    assert len(common) >= 0.9 * len(a)
    compared = 0
    for key in common:
        for name, value in a[key].items():
            if name != "timestamp" and name in b[key]:
                assert b[key][name] == value, (key, name)
                compared += 1
    assert compared > 500


def test_stats_carry_w3c_names_only() -> None:
    capture = by_key(load_captures(INTERNALS))["9-1"]
    last = capture.last_stats()
    inbound = [r for r in last if r["type"] == "inbound-rtp"]
    assert {r["kind"] for r in inbound} == {"audio", "video"}
    for report in inbound:
        assert isinstance(report["packetsLost"], int) and isinstance(report["mid"], str)
        assert report["packetsReceived"] > 0
    (video,) = [r for r in inbound if r["kind"] == "video"]
    assert isinstance(video["nackCount"], int) and isinstance(video["pliCount"], int)
    assert not [k for r in last for k in r if k.startswith("[")]  # webrtc-internals' computed rates
    times = [s["t"] for s in capture.stats_samples]
    assert times == sorted(times) and len(times) >= 3


def test_stats_line_up_with_the_probe_in_one_frame() -> None:
    """The fields the probe's collector writes for inbound-rtp exist under the same names in a
    browser's dump, so one DataFrame holds both (rtcprobe.frames)."""
    from rtcprobe.frames import stats as stats_frame

    probe_fields = {"packetsReceived", "bytesReceived", "headerBytesReceived", "packetsLost", "jitter",
                    "nackCount", "pliCount", "firCount"}
    imported = [by_key(load_captures(p))["9-1"] for p in (INTERNALS, RTCSTATS)]
    frame = pd.concat([stats_frame(c).assign(source=c.protocol) for c in imported])
    video_in = frame[(frame.type == "inbound-rtp") & (frame.kind == "video")]
    assert probe_fields <= set(video_in.metric)
    per_source = video_in[video_in.metric == "nackCount"].groupby("source").size()
    assert len(per_source) == 2 and per_source.min() >= 3


def test_split_key_keeps_computed_names_whole() -> None:
    assert split_key("IT01V2600454401-[framesReceived-framesDecoded-framesDropped]") == (
        "IT01V2600454401", "[framesReceived-framesDecoded-framesDropped]")
    assert split_key("Conn-audio-1-0-googRtt") == ("Conn-audio-1-0", "googRtt")
    assert split_key("CF46:D5:B9-timestamp") == ("CF46:D5:B9", "timestamp")


# -- layouts no browser here writes any more ----------------------------------------------------


def series(values: list[Any], stats_type: str, start: Any = "2024-05-01T10:00:00.000Z",
           end: Any = "2024-05-01T10:00:03.000Z") -> dict[str, Any]:
    return {"startTime": start, "endTime": end, "statsType": stats_type, "values": json.dumps(values)}


def write(path: Path, dump: dict[str, Any]) -> Path:
    path.write_text(json.dumps(dump, indent=1))
    return path


def new_dump(stats: dict[str, Any], log: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    t0 = 1714557600000.0  # 2024-05-01T10:00:00Z
    log = log if log is not None else [
        {"type": "setLocalDescription", "value": json.dumps({"type": "offer", "sdp": OFFER}), "timestamp": t0 - 500},
        {"type": "onconnectionstatechange", "value": '"connected"', "timestamp": t0 - 100},
    ]
    return {"getUserMedia": [], "PeerConnections": {"3-1": {"pid": 9, "url": "https://example.test/call?token=abc",
            "rtcConfiguration": '{"iceServers":[{"urls":["turn:turn.example.test:3478"],"username":"u"}]}',
            "stats": stats, "updateLog": log}}, "UserAgent": "test"}


def test_series_are_placed_by_their_timestamps(tmp_path: Path) -> None:
    """Since M117 every stats object has a -timestamp series; a metric with fewer points is placed
    by its endTime (here one that starts late and one that stops early), else from the end."""
    t0 = 1714557600000.0
    stamps = [t0, t0 + 1000, t0 + 2000, t0 + 3000]
    iso = ["2024-05-01T10:00:00.000Z", "2024-05-01T10:00:01.000Z", "2024-05-01T10:00:02.000Z",
           "2024-05-01T10:00:03.000Z"]
    stats = {
        "IT01A1-timestamp": series(stamps, "inbound-rtp"),
        "IT01A1-packetsReceived": series([10, 20, 30, 40], "inbound-rtp"),
        "IT01A1-nackCount": series([1, 2], "inbound-rtp", iso[2], iso[3]),  # appears late
        "IT01A1-jitter": series([0.5, 0.6], "inbound-rtp", iso[0], iso[1]),  # stops early
        "IT01A1-pliCount": series([7, 8], "inbound-rtp", "?", "?"),  # no usable endTime: from the end
        "IT01A1-mid": series([0, 0, 0, 0], "inbound-rtp"),
        "IT01A1-[bytesReceived_in_bits/s]": series([1, 2, 3], "inbound-rtp"),
        "Conn-audio-1-0-googRtt": series([1, 2, 3, 4], "googCandidatePair"),
    }
    (capture,) = load_captures(write(tmp_path / "dump.json", new_dump(stats)))
    rows = [s["reports"][0] for s in capture.stats_samples]
    assert [r["packetsReceived"] for r in rows] == [10, 20, 30, 40]
    assert [r.get("nackCount") for r in rows] == [None, None, 1, 2]
    assert [r.get("jitter") for r in rows] == [0.5, 0.6, None, None]
    assert [r.get("pliCount") for r in rows] == [None, None, 7, 8]
    assert {r["mid"] for r in rows} == {"0"}
    assert [round(r["timestamp"] - rows[0]["timestamp"], 6) for r in rows] == [0.0, 1.0, 2.0, 3.0]
    assert rows[0]["timestamp"] == pytest.approx(0.5)  # seconds since the first event (SLD at t0 - 500)
    assert "1 legacy (goog*/Conn-) stats series skipped" in " ".join(capture.problems)
    assert capture.header["options"]["ice_servers"] == ["turn:turn.example.test:3478"]
    assert "abc" not in capture.target and "redacted" in capture.target


def test_old_dump_layout(tmp_path: Path) -> None:
    """Before M117: no -timestamp series (samples 1 s apart from startTime); before ~M120: updateLog
    `time` is toLocaleString() text and values are `type: offer, sdp: ...` and `sdpMid: 0,
    sdpMLineIndex: 0, candidate: ...`; ids were `<pid>-<lid>`; legacy goog stats sat alongside."""
    log = [
        {"time": "5/1/2024, 10:00:00 AM", "type": "setRemoteDescription", "value": f"type: offer, sdp: {OFFER}"},
        {"time": "5/1/2024, 10:00:00 AM", "type": "setLocalDescription",
         "value": "type: answer, sdp: " + OFFER.replace("a=setup:actpass", "a=setup:active")},
        {"time": "5/1/2024, 10:00:01 AM", "type": "onIceCandidate",
         "value": f"sdpMid: 0, sdpMLineIndex: 0, candidate: {CANDIDATE}"},
        {"time": "5/1/2024, 10:00:01 AM", "type": "iceConnectionStateChange", "value": "checking"},
        {"time": "5/1/2024, 10:00:02 AM", "type": "iceConnectionStateChange", "value": "failed"},
    ]
    stats = {
        "RTCInboundRTPAudioStream_5-bytesReceived": series([100, 200, 300], "inbound-rtp",
                                                           "2024-05-01T10:00:01.000Z", "2024-05-01T10:00:03.000Z"),
        "RTCInboundRTPAudioStream_5-packetsLost": series([0, 1], "inbound-rtp",
                                                         "2024-05-01T10:00:02.000Z", "2024-05-01T10:00:03.000Z"),
        "bweforvideo-googAvailableSendBandwidth": series([1, 2, 3], "VideoBwe"),
    }
    dump = new_dump(stats, log)
    dump["PeerConnections"] = {"1234-1": dump["PeerConnections"]["3-1"]}
    (capture,) = load_captures(write(tmp_path / "old.txt", dump))
    assert (capture.local_description.type, capture.remote_description.type) == ("answer", "offer")
    assert "192.0.2.7" in [c.address for c in capture.candidate_list("local")]  # trickled
    assert capture.states("ice_connection") == [(1.0, "checking"), (2.0, "failed")]
    assert capture.reason == "ice"
    rows = [s["reports"][0] for s in capture.stats_samples]
    assert [(r["timestamp"], r["bytesReceived"], r.get("packetsLost")) for r in rows] == [
        (1.0, 100, None), (2.0, 200, 0), (3.0, 300, 1)]
    text = " ".join(capture.problems)
    assert "local wall-clock strings" in text and "no -timestamp series" in text and "legacy" in text


def test_unreadable_values_are_skipped_and_named(tmp_path: Path) -> None:
    t0 = 1714557600000.0
    stats = {"T01-timestamp": series([t0, t0 + 1000], "transport"),
             "T01-bytesSent": series([1, 2], "transport"),
             "T01-bytesReceived": {"startTime": 0, "endTime": 0, "statsType": "transport", "values": "[1, 2"}}
    (capture,) = load_captures(write(tmp_path / "dump.json", new_dump(stats)))
    assert [s["reports"][0]["bytesSent"] for s in capture.stats_samples] == [1, 2]
    assert any("'T01-bytesReceived': values is not a JSON array" in p for p in capture.problems)


def test_truncated_dump_keeps_what_is_complete(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    text = gzip.decompress(INTERNALS.read_bytes()).decode()
    cut = text.index('"10-1"') + len(text[text.index('"10-1"'):]) // 2  # in the stats of the 2nd PC
    path = tmp_path / "cut.txt"
    path.write_text(text[:cut])
    captures = by_key(load_captures(path))
    first = captures["9-1"]
    assert first.offer is not None and first.answer is not None and len(first.stats_samples) >= 3
    assert any("the file ends early (truncated)" in p for p in first.problems)
    assert captures["10-1"].stats_samples and captures["10-1"].offer is None  # its updateLog came later
    assert main(["import", str(path), "-o", str(tmp_path / "out")]) == 0
    assert "the file ends early (truncated)" in capsys.readouterr().err
    assert main(["analyze", str(path), "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["source"].endswith("(PeerConnection 9-1)")
    assert "PeerConnection 10-1 holds no session description, skipped" in out.err


def test_dump_without_peer_connections_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = write(tmp_path / "empty.txt", {"getUserMedia": [], "PeerConnections": {}, "UserAgent": "x"})
    with pytest.raises(InputError, match="no PeerConnections: nothing to import"):
        load_captures(path)
    assert main(["import", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"rtcprobe: error: {path}: no PeerConnections")


def test_unknown_pc_and_unknown_files_say_what_exists(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"no PeerConnection '7-7' in this dump \(it has 9-1, 10-1\)"):
        load_captures(INTERNALS, pc="7-7")
    with pytest.raises(InputError, match="not a browser record"):
        load_captures(DATA / "chromium-offer.sdp")


# -- RTCStatsDump as the rtcstats tools write it --------------------------------------------------


def test_compressed_rtcstats_dump(tmp_path: Path) -> None:
    """Method codes, property codes, stats deltas (a null removes an object, `t` is the shared
    timestamp) and description sections shortened to `m=`, as rtcstats-shared compression.js does."""
    sections = OFFER.split("\r\nm=")
    short = "\r\n".join(["v="] + ["m=" for _ in sections[1:]]) + "\r\n"
    t0 = 1714557600000
    lines = [
        "RTCStatsDump", json.dumps({"fileFormat": 3}),
        json.dumps(["create", None, {"userAgent": "rtcstats-js test"}, t0]),
        json.dumps([39, "pc0", {"iceServers": []}, "https://app.test/", 1]),
        json.dumps([3, "pc0", {"type": "offer", "sdp": OFFER}, 5]),
        json.dumps([6, "pc0", {"type": "offer", "sdp": short}, 1]),
        json.dumps([20, "pc0", {"candidate": CANDIDATE, "sdpMid": "0", "sdpMLineIndex": 0}, 2]),
        json.dumps([25, "pc0", "connected", 40]),
        json.dumps(["g", "pc0", {"0": {"type": 1, "10": 1111, "11": "audio", "14": 5, "42": 0, "18": "0"},
                                 "1": {"type": 5, "80": 100}, "t": t0 + 1000}, 951]),
        json.dumps(["g", "pc0", {"0": {"14": 9, "42": 2}, "1": None, "t": t0 + 2000}, 1000]),
    ]
    path = tmp_path / "rtcstats.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    (capture,) = load_captures(path)
    assert capture.offer.text == OFFER and capture.target == "https://app.test/"
    assert 50000 in [c.port for c in capture.candidate_list("local")]  # trickled
    first, second = (s["reports"] for s in capture.stats_samples)
    # t = 0 is the PeerConnection's first line ("create", 1 ms after the page's): stats at +999 ms
    assert first[0] == {"id": "0", "type": "inbound-rtp", "timestamp": 0.999, "ssrc": 1111, "kind": "audio",
                        "packetsReceived": 5, "nackCount": 0, "mid": "0"}
    assert [r["id"] for r in second] == ["0"]  # the transport was removed
    assert (second[0]["packetsReceived"], second[0]["nackCount"], second[0]["kind"], second[0]["timestamp"]) == (
        9, 2, "audio", 1.999)


def test_decompression_leaves_plain_values_alone() -> None:
    plain = {"type": "offer", "sdp": OFFER}
    assert decompress_description({"type": "offer", "sdp": "v=0\r\n"}, plain) is plain
    assert decompress_stats({}, {"a": {"type": "codec", "payloadType": 111}})["a"]["payloadType"] == 111


def test_rtcstats_dump_cut_mid_line(tmp_path: Path) -> None:
    text = gzip.decompress(RTCSTATS.read_bytes()).decode()
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(text[: len(text) - 40].encode()))
    captures = by_key(load_captures(path))
    assert captures["9-1"].answer is not None
    assert any("the last line is cut" in p for p in captures["9-1"].problems)
    bad = tmp_path / "bad.gz"
    bad.write_bytes(gzip.compress(b"RTCStatsDump\nnot json\n"))
    with pytest.raises(InputError, match="metadata object"):
        load_captures(bad)


def test_rtcstats_dump_cut_inside_the_gzip_stream(tmp_path: Path) -> None:
    """A download that stopped: the gzip stream itself ends early, which must be said, not swallowed."""
    data = RTCSTATS.read_bytes()
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) * 3 // 4])
    captures = by_key(load_captures(path))
    assert captures["9-1"].offer is not None
    assert any("the file ends early (truncated)" in p for p in captures["9-1"].problems)


def test_dotted_file_names_do_not_collide(tmp_path: Path) -> None:
    for name in ("call.2025.txt.gz", "call.2026.gz"):
        (tmp_path / name).write_bytes(INTERNALS.read_bytes())
    names = {w.path.name for name in ("call.2025.txt.gz", "call.2026.gz")
             for w in write_captures(tmp_path / name, tmp_path / "out")}
    assert len(names) == 4 and {n.split("-")[0] for n in names} == {"call.2025", "call.2026"}


# -- one path to disk and to memory; the commands -------------------------------------------------


def test_written_capture_is_the_capture_in_memory(tmp_path: Path) -> None:
    written = write_captures(INTERNALS, tmp_path)
    assert sorted(w.path.name for w in written) == [
        "import-chromium-webrtc_internals_dump-10-1.jsonl", "import-chromium-webrtc_internals_dump-9-1.jsonl"]
    memory = by_key(load_captures(INTERNALS))
    for w in written:
        loaded = rtcprobe.load(w.path)
        assert loaded.events == memory[w.key].events
        assert {k: loaded.header[k] for k in ("id", "protocol", "options", "started_at", "target")} == {
            k: memory[w.key].header[k] for k in ("id", "protocol", "options", "started_at", "target")}
        assert loaded.ok and w.events["stats"] == len(loaded.stats_samples)


def test_analyze_and_diff_take_dumps(capsys: pytest.CaptureFixture) -> None:
    assert main(["analyze", str(INTERNALS), "--json"]) == 0
    documents = json.loads(capsys.readouterr().out)
    assert len(documents) == 2 and all(d["profile"][0]["aspect"] == "PeerConnection" for d in documents)
    assert main(["analyze", str(RTCSTATS), "--pc", "10-1", "--side", "offer", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["candidates"]["count"] >= 1  # aiortc's offer carries them
    assert main(["diff", str(INTERNALS), str(RTCSTATS)]) == 2
    assert "holds 2 sessions" in capsys.readouterr().err
    assert main(["diff", str(INTERNALS), str(RTCSTATS), "--pc", "9-1", "--json", "--exit-code"]) == 0
    assert json.loads(capsys.readouterr().out)["semantic_change"] is False


def test_progress_reports_stages_that_add_up() -> None:
    class Recorded:
        def __init__(self) -> None:
            self.stages: list[tuple[str, float | None]] = []
            self.done = 0.0

        def stage(self, description: str, total: float | None = None) -> None:
            self.stages.append((description, total))
            self.done = 0.0

        def advance(self, amount: float = 1) -> None:
            self.done += amount

    progress = Recorded()
    load_captures(INTERNALS, progress=progress)
    assert [d.split()[0] for d, _ in progress.stages] == ["reading", "parsing", "importing"]
    assert progress.done == pytest.approx(progress.stages[-1][1])  # every stats series accounted for


"""DataFrames of real captures: documented columns and dtypes, and numbers that agree with the events.

One real session per module (aiortc on both sides, openai protocol, audio + video + oai-events,
seeded 25 % loss so that NACKs exist whatever the packet interleaving) and one that fails at HTTP."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import rtcprobe
from rtcprobe import frames
from rtcprobe.analyze.feedback import feedback_counts
from rtcprobe.analyze.latency import connect_breakdown, response_timings
from rtcprobe.capture import Capture, load
from rtcprobe.commands.demo import DEMO_MESSAGES
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.server import ServerConfig, run_server

pytestmark = pytest.mark.slow

FRAMES = ("candidates", "timeline", "stats", "rtcp", "datachannel", "latency")


async def _session(path: Path, endpoint: str, protocol: str, knobs: dict, **options: object) -> Path:
    runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0, **knobs))
    try:
        opts = ProbeOptions(target=base + endpoint, output=path, protocol=protocol, **options)  # type: ignore[arg-type]
        return Path((await ProbeSession(opts).run()).path)
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Capture]]:
    folder = tmp_path_factory.mktemp("frames")
    lossy = asyncio.run(_session(
        folder / "lossy.jsonl", "/v1/realtime/calls", "openai", {"loss_percent": 25, "seed": 7},
        video=True, video_size=(640, 360), fps=15, duration=2.0, stats_interval=0.5,
        send=[json.dumps(m) for m in DEMO_MESSAGES]))
    failed = asyncio.run(_session(folder / "failed.jsonl", "/whip", "whip", {"http_status": 503}))
    yield {"lossy": load(lossy), "failed": load(failed), "folder": folder}  # type: ignore[dict-item]
    shutil.rmtree(folder, ignore_errors=True)


def _dtypes(frame: pd.DataFrame) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}


@pytest.mark.parametrize("name", FRAMES)
def test_columns_and_dtypes_match_the_documented_schema(captures, name: str) -> None:
    schema = frames.SCHEMAS[name]
    expected = {column: spec.dtype for column, spec in schema.items()}
    for which in ("lossy", "failed"):
        frame = getattr(captures[which], name)()
        assert list(frame.columns) == list(schema), which
        assert _dtypes(frame) == {c: str(pd.Series([], dtype=d).dtype) for c, d in expected.items()}, which
        assert all(spec.doc for spec in schema.values())
    assert list(frames.columns(name).index) == list(schema)  # the documentation a notebook can show


def test_lossy_capture_is_what_the_frames_describe(captures) -> None:
    cap = captures["lossy"]
    assert cap.ok, cap.diagnosis
    assert feedback_counts(cap).sent.get("NACK", 0) > 0, "seeded loss produced no NACK"


def test_rtcp_rows_are_the_packets_and_nacks_match_the_counters(captures) -> None:
    cap = captures["lossy"]
    rtcp = cap.rtcp()
    assert len(rtcp) == len(cap.of("rtcp"))
    counts = feedback_counts(cap)
    for direction in ("sent", "received"):
        mine = rtcp[rtcp.direction == direction].packet_type.value_counts().to_dict()
        assert mine == getattr(counts, direction)
    nacks = rtcp[(rtcp.packet_type == "NACK") & (rtcp.direction == "sent")]
    assert len(nacks) == counts.sent["NACK"]
    assert int(nacks.lost_count.sum()) == counts.nack_lost_sequence_numbers["sent"]
    assert set(nacks.kind) == {"video"}  # NACK is negotiated for video only
    # the probe's own inbound-rtp.nackCount counts the NACKs it sent, as the W3C name says
    video_in = next(r for r in cap.last_stats() if r["type"] == "inbound-rtp" and r["kind"] == "video")
    assert video_in["nackCount"] == len(nacks)
    assert (rtcp.wall_clock == pd.to_datetime(cap.header["started_at_epoch"] + rtcp.t, unit="s", utc=True)).all()


def test_stats_long_frame_holds_every_numeric_field(captures) -> None:
    cap = captures["lossy"]
    stats = cap.stats()
    assert stats["sample"].nunique() == len(cap.stats_samples)
    last = stats[stats["sample"] == len(cap.stats_samples) - 1]
    for report in cap.last_stats():
        for metric, value in report.items():
            if metric in frames.STATS_IDENTITY or not isinstance(value, int | float):
                continue
            row = last[(last["id"] == report["id"]) & (last.metric == metric)]
            assert row["value"].tolist() == [float(value)], (report["id"], metric)
    outbound = stats[(stats.type == "outbound-rtp") & (stats.metric == "packetsSent")]
    assert set(outbound.kind) == {"audio", "video"}
    assert (outbound.groupby("ssrc")["value"].apply(lambda v: v.is_monotonic_increasing)).all()


def test_stats_wide_per_stream(captures) -> None:
    cap = captures["lossy"]
    wide = cap.stats_wide("remote-inbound-rtp")
    assert set(wide["type"]) == {"remote-inbound-rtp"}
    assert len(wide) == sum(1 for s in cap.stats_samples for r in s["reports"] if r["type"] == "remote-inbound-rtp")
    assert str(wide["roundTripTime"].dtype) == "float64" and wide["roundTripTime"].dropna().gt(0).all()
    assert list(wide.columns[:8]) == list(frames.STATS_WIDE_LEADING)
    transport = cap.stats_wide("transport")
    assert str(transport["dtlsState"].dtype) == "string" and transport["dtlsState"].iloc[-1] == "connected"
    everything = cap.stats_wide()
    assert len(everything) == sum(len(s["reports"]) for s in cap.stats_samples)


def test_candidates_decoded_and_selected_pair_flagged(captures) -> None:
    cap = captures["lossy"]
    table = cap.candidates()
    assert set(table.side) == {"local", "remote"}
    selected = table[table.selected]
    assert sorted(selected.side) == ["local", "remote"]
    # ICE may settle on ::1 or 127.0.0.1 (equal priorities, first success wins): the flag must follow
    # the pair aioice actually sends on, as its last `selected_pair` event says
    pair = cap.of("selected_pair")[-1]
    local = selected[selected.side == "local"].iloc[0]
    assert f"{local.address}:{local.port}/{local.transport}" == pair["local"]
    host = table[table.type == "host"]
    assert (host.type_preference == 126).all() and (host.priority_component == host.component).all()
    assert set(table.address_family) <= {"IPv4", "IPv6"}
    # BUNDLE repeats of the remote candidates are one row each, with every mid listed
    remote = table[table.side == "remote"]
    assert not remote.duplicated(["address", "port", "transport"]).any()
    assert remote.mids.str.contains(",").all()


def test_timeline_is_one_row_per_event(captures) -> None:
    cap = captures["lossy"]
    timeline = cap.timeline()
    assert len(timeline) == len(cap.events)
    assert timeline.event.tolist() == [e["event"] for e in cap.events]
    assert timeline.t.is_monotonic_increasing
    end = timeline[timeline.event == "end"].iloc[0]
    assert end.summary.startswith("completed") and end.fields["reason"] == "completed"


def test_datachannel_messages_with_json_types(captures) -> None:
    cap = captures["lossy"]
    messages = cap.datachannel()
    events = cap.of("dc_message")
    assert len(messages) == len(events) and int(messages["size"].sum()) == sum(e["size"] for e in events)
    sent = messages[messages.direction == "sent"]
    assert sent.type.tolist() == [m["type"] for m in DEMO_MESSAGES]
    assert {"session.created", "session.updated"} <= set(messages[messages.direction == "received"].type)


def test_latency_is_the_connect_breakdown_and_response_timings(captures) -> None:
    cap = captures["lossy"]
    latency = cap.latency()
    breakdown = connect_breakdown(cap)
    connect = latency[latency.kind == "connect"]
    assert connect.name.tolist() == [p.name for p in breakdown.phases]
    assert connect.duration.tolist() == pytest.approx([p.duration for p in breakdown.phases])
    total = latency[latency.kind == "total"].iloc[0]
    assert total.duration == pytest.approx(breakdown.total)
    responses = latency[latency.kind == "response"]
    assert responses.duration.tolist() == pytest.approx([r.latency for r in response_timings(cap)])
    assert (responses.end - responses.t).tolist() == pytest.approx(responses.duration.tolist())


def test_failed_capture_frames(captures) -> None:
    cap = captures["failed"]
    assert cap.reason == "http"
    assert cap.rtcp().empty and cap.datachannel().empty and cap.stats_wide("inbound-rtp").empty
    assert not cap.stats()["type"].isin(["inbound-rtp", "outbound-rtp"]).any()  # the final sample: transport only
    latency = cap.latency()
    assert latency[latency.kind == "total"].duration.isna().all() and latency.failed.any()
    assert set(cap.candidates().side) == {"local"}  # our own candidates were gathered before the POST


def test_load_many_concatenates_with_a_capture_column(captures) -> None:
    folder = captures["folder"]
    many = rtcprobe.load_many(str(folder / "*.jsonl"))
    assert isinstance(many, rtcprobe.CaptureSet) and many.ids == ["failed", "lossy"]
    for name in FRAMES:
        combined = getattr(many, name)()
        assert combined.columns[0] == "capture" and str(combined["capture"].dtype) == "string"
        per_capture = {c.id: len(getattr(c, name)()) for c in many}
        assert combined["capture"].value_counts().to_dict() == {k: v for k, v in per_capture.items() if v}
        assert list(combined.columns[1:]) == list(frames.SCHEMAS[name])
    assert len(many.stats_wide("outbound-rtp")) == len(captures["lossy"].stats_wide("outbound-rtp"))
    with pytest.raises(rtcprobe.InputError, match="no capture matches"):
        rtcprobe.load_many(str(folder / "nothing-*.jsonl"))


def test_load_many_skips_a_stray_file_a_glob_matched(captures, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("lossy", "failed"):
        (folder / f"{name}.jsonl").write_bytes(Path(captures[name].path).read_bytes())
    (folder / "notes.jsonl").write_text("not a capture\n")
    with pytest.warns(UserWarning, match="notes.jsonl:1: not a capture"):
        many = rtcprobe.load_many(str(folder / "*.jsonl"))
    assert many.ids == ["failed", "lossy"] and len(many.skipped) == 1
    with pytest.raises(rtcprobe.InputError, match="notes.jsonl"):  # named outright: it must load
        rtcprobe.load_many([folder / "lossy.jsonl", folder / "notes.jsonl"])


def test_notebook_display_is_the_profile_and_connect_breakdown(captures) -> None:
    html = captures["lossy"]._repr_html_()
    assert "PeerConnection" in html and "Connect time" in html and "to media" in html
    failed = captures["failed"]._repr_html_()
    assert "Failed" in failed and "503" in failed
    assert "<script" not in html.lower() + failed.lower()
    many = rtcprobe.load_many([captures["lossy"].path, captures["failed"].path])
    assert "2 captures" in many._repr_html_()

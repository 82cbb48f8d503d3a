"""The connect-time breakdown and request/response matching, on hand-written event sequences."""

from rtcprobe.analyze.latency import connect_breakdown, response_timings
from rtcprobe.capture import Capture


def capture(*events: dict) -> Capture:
    return Capture("x.jsonl", {"event": "header", "schema": "rtcprobe-capture/1"}, list(events))


def msg(t: float, direction: str, type_: str | None = None, data: str | None = None) -> dict:
    return {"event": "dc_message", "t": t, "direction": direction, "json_type": type_,
            "data": data or f'{{"type": "{type_}"}}', "truncated": False}


def test_unsolicited_events_are_not_answers() -> None:
    cap = capture(
        msg(0.10, "sent", "session.update"),
        msg(0.11, "received", "session.created"),  # in flight before our update: not an answer
        msg(0.12, "received", "input_audio_buffer.speech_started"),
        msg(0.30, "received", "session.updated"),
        msg(0.40, "sent", "conversation.item.create"),
        msg(0.45, "sent", "response.create"),
        msg(0.50, "received", "conversation.item.added"),
        msg(0.90, "received", "response.created"),
        msg(1.00, "sent", None, data="ping"),
        msg(1.02, "received", None, data="ping"),
    )
    timings = [(r.request, r.response, round(r.latency, 3)) for r in response_timings(cap)]
    assert timings == [("session.update", "session.updated", 0.2),
                       ("conversation.item.create", "conversation.item.added", 0.1),
                       ("response.create", "response.created", 0.45),
                       ("message", "message", 0.02)]


def test_unanswered_request_has_no_timing() -> None:
    assert response_timings(capture(msg(0.1, "sent", "response.create"))) == []


def test_breakdown_phases_and_failure() -> None:
    events = [
        {"event": "http", "t": 0.2, "phase": "offer", "method": "POST", "t_request": 0.05, "t_response": 0.2},
        {"event": "state", "t": 0.21, "machine": "ice_connection", "state": "checking"},
        {"event": "state", "t": 0.25, "machine": "ice_connection", "state": "completed"},
        {"event": "state", "t": 0.25, "machine": "dtls", "state": "connecting"},
        {"event": "state", "t": 0.30, "machine": "dtls", "state": "connected"},
        {"event": "rtp_first", "t": 0.38, "direction": "received"},
        {"event": "datachannel", "t": 0.33, "action": "open"},
    ]
    b = connect_breakdown(capture(*events))
    assert {k: round(v, 3) for k, v in b.as_dict().items()} == {
        "http": 0.15, "ice": 0.04, "dtls": 0.05, "first media": 0.08, "data channel": 0.03, "total": 0.38}
    failed = connect_breakdown(capture(*events[:3], {"event": "end", "t": 5, "reason": "dtls"}))
    assert failed.failed_phase == "dtls" and failed.phase("dtls").end is None  # started, never ended


# -- the "to media" total exists only when media arrived ------------------------------------------

SETUP = [
    {"event": "http", "t": 0.2, "phase": "offer", "method": "POST", "t_request": 0.05, "t_response": 0.2,
     "status": 201},
    {"event": "state", "t": 0.21, "machine": "ice_connection", "state": "checking"},
    {"event": "state", "t": 0.25, "machine": "ice_connection", "state": "completed"},
    {"event": "state", "t": 0.25, "machine": "dtls", "state": "connecting"},
    {"event": "state", "t": 0.30, "machine": "dtls", "state": "connected"},
]


def test_refused_offer_has_no_total() -> None:
    refused = {**SETUP[0], "status": 401}
    b = connect_breakdown(capture(refused, {"event": "end", "t": 0.3, "reason": "http", "diagnosis": "401"}))
    assert (b.failed_phase, b.total, b.total_note, b.as_dict()["total"]) == ("http", None, "no media", None)


def test_connected_without_media_has_no_total_and_an_open_media_phase() -> None:
    b = connect_breakdown(capture(*SETUP, {"event": "end", "t": 5.3, "reason": "media", "diagnosis": "no RTP"}))
    assert b.phase("first media") is not None and b.phase("first media").end is None
    assert (b.failed_phase, b.total, b.total_note) == ("first media", None, "no media")


def test_failure_after_media_keeps_the_total() -> None:
    """The peer went silent after media flowed: set-up did not fail, and its total stands."""
    events = [*SETUP, {"event": "rtp_first", "t": 0.38, "direction": "received"},
              {"event": "end", "t": 9.0, "reason": "media", "diagnosis": "the peer went silent"}]
    b = connect_breakdown(capture(*events))
    assert b.failed_phase is None and round(b.total, 3) == 0.38 and b.total_note == ""


def test_real_dumps_say_what_they_cannot_know() -> None:
    """Imported dumps have stats, not packets: no first-packet time. Where the stats show media
    (Jitsi rtcstats-server, Chrome), the total is "not recorded"; where they show none, "no media"."""
    from pathlib import Path

    from rtcprobe.importers import load_captures

    dumps = Path(__file__).resolve().parent / "data" / "realworld" / "dumps"
    (relay,) = load_captures(dumps / "jitsi-chrome-relay.gz")
    b = connect_breakdown(relay)
    assert b.phase("dtls").end is not None and b.total is None
    assert b.total_note == "not recorded (media arrived; no first-packet time in this record)"
    p2p = {c.id.split("#")[1]: c for c in load_captures(dumps / "jitsi-google-standard-stats-relay-p2p.gz")}
    inbound = [r for r in p2p["PC_1"].last_stats() if r["type"] == "inbound-rtp"]
    assert inbound and all(r["packetsReceived"] == 0 for r in inbound)  # what the dump says
    assert connect_breakdown(p2p["PC_1"]).total_note == "no media"


def test_har_import_has_no_total(tmp_path) -> None:
    """A HAR holds the HTTP exchange only (here with real Chrome SDPs from aiortc's fixtures)."""
    import json
    from pathlib import Path

    from rtcprobe.importers import load_captures

    sdp = Path(__file__).resolve().parent / "data" / "realworld" / "sdp"
    offer, answer = (sdp / "aiortc-audio_chrome-1.sdp").read_text(), (sdp / "aiortc-audio_chrome-2.sdp").read_text()
    entry = {"startedDateTime": "2025-09-01T12:00:00.000Z", "time": 40,
             "request": {"method": "POST", "url": "https://sfu.test/whip/x", "httpVersion": "HTTP/1.1", "cookies": [],
                         "headers": [{"name": "Content-Type", "value": "application/sdp"}],
                         "postData": {"mimeType": "application/sdp", "text": offer}},
             "response": {"status": 201, "statusText": "Created",
                          "headers": [{"name": "Location", "value": "/whip/x/1"}],
                          "content": {"size": len(answer), "mimeType": "application/sdp", "text": answer}},
             "timings": {"send": 1, "wait": 38, "receive": 1}}
    har = tmp_path / "whip.har"
    har.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "test"}, "entries": [entry]}}))
    (imported,) = load_captures(har)
    b = connect_breakdown(imported)
    assert [p.name for p in b.phases] == ["http"] and b.total is None and b.total_note == "no media"

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

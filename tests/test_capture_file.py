"""The capture file: append-only lines, redacted on write, loadable when cut."""

import json
from pathlib import Path

import pytest

from rtcprobe.capture import CaptureWriter, load, truncate_message
from rtcprobe.capture import events as ev
from rtcprobe.errors import InputError
from rtcprobe.redact import redact, redact_text, register_secret

ANSWER = (Path(__file__).resolve().parents[1] / "captures" / "openai-ga-2025-09-answer.sdp").read_text()


def write_sample(path: Path, end: bool = True) -> None:
    with CaptureWriter(path, target="https://user:pw@example.test/v1/realtime/calls?api_key=abc",
                       protocol="openai", options={"duration": 1}) as writer:
        writer.write(ev.SDP, role="remote", type="answer", sdp=ANSWER)
        writer.write(ev.STATE, machine="connection", state="connected")
        writer.write(ev.HTTP, phase="offer", method="POST", url="https://example.test/v1/realtime/calls",
                     status=201, request_headers={"Authorization": "Bearer sk-proj-abcdefghijkl"},
                     response_headers={}, t_request=0.01, t_response=0.2)
        if end:
            writer.write(ev.END, reason="completed", diagnosis="", duration=1.0)


def test_roundtrip_and_accessors(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    write_sample(path)
    cap = load(path)
    assert cap.header["schema"] == ev.SCHEMA and cap.protocol == "openai"
    assert not cap.cut and cap.ok and cap.reason == "completed"
    assert cap.answer is not None and cap.answer.media[1].kind == "video"
    assert cap.state_reached("connection", "connected") is not None
    assert cap.negotiation.http[0]["status"] == 201
    times = [e["t"] for e in cap.events]
    assert times == sorted(times) and all(isinstance(t, float) for t in times)
    assert cap.wall_clock(1.0) is not None


def test_secrets_never_reach_the_file(tmp_path: Path) -> None:
    register_secret("my-literal-token-123")
    path = tmp_path / "c.jsonl"
    with CaptureWriter(path, target="https://x.test/whip?token=my-literal-token-123", protocol="whip", options={}) as w:
        w.write(ev.ERROR, phase="http", message="server said: bad token my-literal-token-123")
    write_sample(tmp_path / "d.jsonl")
    text = path.read_text() + (tmp_path / "d.jsonl").read_text()
    for secret in ("my-literal-token-123", "sk-proj-abcdefghijkl", "user:pw", "api_key=abc"):
        assert secret not in text
    assert "[redacted]" in text


def test_secrets_quoted_in_free_text_are_scrubbed() -> None:
    """What servers echo back: URLs with secret query keys, JSON bodies, Link ice-server credentials."""
    text = redact_text(
        'POST https://x.test/whip?auth_token=A1B2C3&model=m answered 401: {"client_secret": {"value": "V9"}, '
        '"password": "P9", "max_output_tokens": 5} Link: <turn:t.test:3478>; rel="ice-server"; '
        'username="u"; credential="C9"; credential-type="password" at /res?sig=S9&x=1')
    for secret in ("A1B2C3", "V9", "P9", "C9", "S9"):
        assert secret not in text
    assert "model=m" in text and '"max_output_tokens": 5' in text and 'username="u"' in text
    scrubbed = redact({"auth_token": "x", "location": "/r?token=T9", "cache_key": "k"})
    assert scrubbed["auth_token"] == "[redacted]" and "T9" not in scrubbed["location"] and scrubbed["cache_key"] == "k"


def test_cut_capture_loads_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl"
    write_sample(path, end=False)
    with path.open("a") as f:
        f.write('{"event": "stats", "t": 1.5, "repo')  # killed mid-write
    cap = load(path)
    assert cap.cut and cap.reason == "cut" and "killed" in cap.diagnosis
    assert cap.answer is not None and len(cap.events) == 3
    assert "incomplete" in cap.problems[0]


def test_not_a_capture(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"event": "sdp", "t": 0}\n')
    with pytest.raises(InputError, match="x.jsonl:1: expected a capture header"):
        load(path)
    path.write_text("garbage\n")  # one line that is not JSON is not a capture, not an empty one
    with pytest.raises(InputError, match="x.jsonl:1: not a capture"):
        load(path)
    path.write_text("")
    with pytest.raises(InputError, match="empty file"):
        load(path)
    with pytest.raises(InputError, match="no such file"):
        load(tmp_path / "missing.jsonl")


def test_truncate_message() -> None:
    short = truncate_message('{"type":"x"}')
    assert short == {"size": 12, "binary": False, "data": '{"type":"x"}', "truncated": False}
    long = truncate_message("é" * 5000, limit=10)
    assert long["size"] == 10000 and long["truncated"] and long["data"] == "é" * 10
    binary = truncate_message(b"\x00\x01", limit=10)
    assert binary["binary"] and binary["data"] == "0001"


def test_capture_is_accepted_by_analyze(tmp_path: Path) -> None:
    from rtcprobe.inputs import load_negotiation

    path = tmp_path / "c.jsonl"
    write_sample(path)
    negotiation = load_negotiation(path)
    assert negotiation.answer is not None and json.dumps(negotiation.http)

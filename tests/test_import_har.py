"""HAR files: a real one written by Playwright's `record_har_path` while headless Chromium makes a
realtime-calls exchange (multipart form, bearer token) with the reference target, and small ones
written out here for the other interfaces and for bad input."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from browser import Chromium, browser_session, serve_target

from rtcprobe.cli import main
from rtcprobe.errors import InputError
from rtcprobe.importers import load_captures, write_captures
from rtcprobe.server import ServerConfig, create_app

DATA = Path(__file__).resolve().parent / "data"
OFFER = (DATA / "chromium-offer.sdp").read_bytes().decode()
ANSWER = OFFER.replace("a=setup:actpass", "a=setup:active")
TOKEN = "sk-test-har-token-0123456789abcdef"


@pytest.mark.browser
@pytest.mark.slow
async def test_har_of_a_realtime_calls_exchange(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    har = tmp_path / "session.har"
    browser = Chromium(context_options={"record_har_path": str(har), "record_har_content": "embed"})
    async with serve_target(create_app(ServerConfig(token=TOKEN))) as target:
        try:
            await asyncio.to_thread(browser.start)
            async with browser.open_page(target.base_url + target.page_path) as page:
                session = await browser_session(page, target.base_url + "/v1/realtime/calls", "openai",
                                                token=TOKEN, session={"type": "realtime", "model": "gpt-realtime"})
        finally:
            await asyncio.to_thread(browser.close)  # Playwright writes the HAR when the context closes
    assert TOKEN in har.read_text()  # the HAR itself holds the secret

    (capture,) = load_captures(har)
    assert capture.offer.text == session.offer and capture.answer.text == session.answer
    assert capture.header["options"]["protocol"] == "openai" and capture.protocol == "import-har"
    assert capture.reason == "completed" and capture.problems == []
    (http,) = capture.http
    assert (http["method"], http["status"], http["form_fields"], http["location"]) == (
        "POST", 201, ["sdp", "session"], session.location)
    assert http["request_content_type"].startswith("multipart/form-data")
    assert not {"authorization", "cookie"} & {k.lower() for k in http["request_headers"]}
    assert http["t_response"] > http["t_request"] == 0.0 and set(http["timings"]) >= {"send", "wait", "receive"}
    assert TOKEN not in json.dumps(capture.events) + json.dumps(capture.header)

    (written,) = write_captures(har, tmp_path / "captures")
    text = written.path.read_text()
    assert TOKEN not in text and "Bearer" not in text and session.answer.splitlines()[1] in text.replace("\\r\\n", "\n")
    assert main(["analyze", str(har), "--json"]) == 0
    interface = [r for r in json.loads(capsys.readouterr().out)["profile"] if r["aspect"] == "Interface"]
    assert "multipart form with `sdp` and `session` fields" in interface[0]["summary"]


# -- HAR files written out here ------------------------------------------------------------------


def entry(method: str, url: str, status: int, *, request_headers: dict[str, str] | None = None,
          body: str | None = None, mime: str | None = None, response: str | None = None,
          response_mime: str = "application/sdp", response_headers: dict[str, str] | None = None,
          started: str = "2025-09-01T12:00:00.000Z", base64_body: bool = False) -> dict[str, Any]:
    request: dict[str, Any] = {"method": method, "url": url, "httpVersion": "HTTP/1.1", "cookies": [],
                               "headers": [{"name": k, "value": v} for k, v in (request_headers or {}).items()]}
    if body is not None:
        request["postData"] = {"mimeType": mime, "text": body}
    content: dict[str, Any] = {"size": len(response or ""), "mimeType": response_mime}
    if response is not None:
        content["text"] = base64.b64encode(response.encode()).decode() if base64_body else response
        if base64_body:
            content["encoding"] = "base64"
    return {"startedDateTime": started, "time": 42.5, "request": request,
            "response": {"status": status, "statusText": "", "headers": [
                {"name": k, "value": v} for k, v in (response_headers or {}).items()], "content": content},
            "timings": {"blocked": 1, "dns": -1, "connect": -1, "send": 0.5, "wait": 40, "receive": 1}}


def write_har(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"log": {"version": "1.2", "creator": {"name": "test"}, "entries": entries}}))
    return path


def test_whip_exchange_with_trickle_and_teardown(tmp_path: Path) -> None:
    secret = {"Authorization": f"Bearer {TOKEN}", "Cookie": "session=abc123", "Content-Type": "application/sdp"}
    har = write_har(tmp_path / "whip.har", [
        entry("GET", "https://ingest.test/app.js", 200, response="console.log(1)", response_mime="text/javascript"),
        entry("POST", "https://ingest.test/whip/endpoint", 201, request_headers=secret, body=OFFER,
              mime="application/sdp", response=ANSWER, base64_body=True, started="2025-09-01T12:00:01.000Z",
              response_headers={"Location": "/whip/resource/1", "ETag": '"x1"', "Set-Cookie": "k=v"}),
        entry("PATCH", "https://ingest.test/whip/resource/1", 204, request_headers=secret,
              body="a=end-of-candidates\r\n", mime="application/trickle-ice-sdpfrag", started="2025-09-01T12:00:02.000Z"),
        entry("DELETE", "https://ingest.test/whip/resource/1", 200, started="2025-09-01T12:00:05.000Z"),
    ])
    (capture,) = load_captures(har)
    assert capture.header["options"]["protocol"] == "whip"
    assert capture.offer.text == OFFER and capture.answer.text == ANSWER
    assert [(h["phase"], h["method"], h["status"]) for h in capture.http] == [
        ("offer", "POST", 201), ("patch", "PATCH", 204), ("teardown", "DELETE", 200)]
    assert [h["t_request"] for h in capture.http] == [0.0, 1.0, 4.0]
    offer_http = capture.http[0]
    assert (offer_http["location"], offer_http["etag"]) == ("/whip/resource/1", '"x1"')
    headers = {k.lower() for h in capture.http for k in [*h["request_headers"], *h["response_headers"]]}
    assert not headers & {"authorization", "cookie", "set-cookie"}
    assert capture.header["started_at"].startswith("2025-09-01T12:00:01")


def test_beta_and_json_exchanges_and_pc_choice(tmp_path: Path) -> None:
    har = write_har(tmp_path / "two.har", [
        entry("POST", "https://api.openai.com/v1/realtime?model=gpt-4o-realtime-preview", 201,
              request_headers={"Content-Type": "application/sdp", "OpenAI-Beta": "realtime=v1"}, body=OFFER,
              mime="application/sdp", response=ANSWER),
        entry("POST", "https://sfu.test/offer", 200, body=json.dumps({"type": "offer", "sdp": OFFER}),
              mime="application/json", response=json.dumps({"type": "answer", "sdp": ANSWER}),
              response_mime="application/json", started="2025-09-01T12:00:03.000Z"),
    ])
    beta, plain = load_captures(har)
    assert (beta.header["options"]["protocol"], plain.header["options"]["protocol"]) == ("openai-beta", "sdp-post")
    assert plain.answer.text == ANSWER and plain.header["options"]["pc"] == "2"
    (only,) = load_captures(har, pc="2")
    assert only.events == plain.events
    with pytest.raises(InputError, match=r"no exchange '3' in this HAR \(it has 1, 2\)"):
        load_captures(har, pc="3")


def test_exchange_without_response_body_keeps_the_offer(tmp_path: Path) -> None:
    har = write_har(tmp_path / "sanitised.har", [
        entry("POST", "https://x.test/v1/realtime/calls", 201, body=OFFER, mime="application/sdp")])
    (capture,) = load_captures(har)
    assert capture.offer.text == OFFER and capture.answer is None
    assert capture.reason == "http" and "holds no SDP answer" in capture.diagnosis
    assert any("the HAR holds no response body" in p for p in capture.problems)


def test_har_without_sdp_is_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    har = write_har(tmp_path / "plain.har", [
        entry("POST", "https://x.test/api", 200, body='{"q": 1}', mime="application/json", response="{}")])
    with pytest.raises(InputError, match=r"no signaling exchange in this HAR \(1 requests\)"):
        load_captures(har)
    assert main(["import", str(har)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"rtcprobe: error: {har}: no signaling exchange")


def test_truncated_har_keeps_complete_entries(tmp_path: Path) -> None:
    full = write_har(tmp_path / "full.har", [
        entry("POST", "https://ingest.test/whip", 201, body=OFFER, mime="application/sdp", response=ANSWER,
              response_headers={"Location": "/whip/1"}),
        entry("GET", "https://ingest.test/later.js", 200, response="x" * 500, response_mime="text/javascript"),
    ])
    text = full.read_text()
    cut = tmp_path / "cut.har"
    cut.write_text(text[: text.index("later.js") + 100])
    (capture,) = load_captures(cut)
    assert capture.answer.text == ANSWER
    assert any("ends early (truncated)" in p for p in capture.problems)

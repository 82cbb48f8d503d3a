"""HAR files (DevTools "Save all as HAR", Playwright `record_har_path`): the signaling exchanges.

A signaling exchange is a POST whose body is an offer: `application/sdp` (WHIP, the realtime beta,
plain SDP POSTs), a `multipart/form-data` form with an `sdp` field (the realtime `calls`
endpoint), or JSON with an `sdp` field. Each becomes one session: the offer, the answer from the
response, one `http` event per request (with the HAR's own `timings`), and the follow-up requests
to the resource the answer named (`Location`: PATCH, DELETE, `/hangup`). `Authorization`,
cookies and the other secret headers are dropped, not written as `[redacted]`; bearer tokens are
also registered with `rtcprobe.redact` so that they are scrubbed wherever else they appear.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

from ..errors import InputError, json_value
from ..redact import (
    SECRET_HEADERS,
    redact_headers,
    redact_url,
    register_secret,
    register_url_credentials,
)
from ..signaling import HttpExchange, guess_protocol
from ..signaling.exchange import excerpt, is_sdp
from .common import Recorder, SessionInfo, SinkFactory
from .files import NoProgress, Progress, epoch_ms, parse_json, read_text

FORMAT = "har"
_TIMINGS = ("blocked", "dns", "connect", "ssl", "send", "wait", "receive")


def sniff(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and b'"log"' in text[:200]


def _headers(message: dict[str, Any]) -> dict[str, str]:
    """A HAR header list as a dict (repeats joined), secret headers left out altogether."""
    out: dict[str, str] = {}
    for header in message.get("headers") or []:
        name, value = str(header.get("name", "")), str(header.get("value", ""))
        if name.lower() in SECRET_HEADERS:
            if name.lower() == "authorization" and value.lower().startswith("bearer "):
                register_secret(value[7:].strip())
            continue
        out[name] = f"{out[name]}, {value}" if name in out else value
    return redact_headers(out)


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((v for k, v in headers.items() if k.lower() == name), None)


def _form_fields(content_type: str, post: dict[str, Any]) -> dict[str, str]:
    """A multipart or urlencoded body as {name: value}, from the HAR's params or its raw text."""
    params = {str(p.get("name")): str(p.get("value", "")) for p in post.get("params") or [] if p.get("name")}
    if params:
        return params
    text = post.get("text") or ""
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(text, keep_blank_values=True))
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + text.encode("utf-8", "surrogateescape"))
    fields = {}
    for part in message.iter_parts() if message.is_multipart() else []:
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            fields[str(name)] = payload.decode("utf-8", "replace")
    return fields


def _offer(request: dict[str, Any]) -> tuple[str | None, str, list[str]]:
    """(offer SDP or None, request content type, form field names) of a request."""
    post = request.get("postData") or {}
    headers = {h.get("name", "").lower(): h.get("value", "") for h in request.get("headers") or []}
    content_type = str(post.get("mimeType") or headers.get("content-type") or "").strip()
    base = content_type.split(";")[0].strip().lower()
    text = post.get("text") or ""
    sdp: Any = None
    fields: list[str] = []
    if base in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = _form_fields(content_type, post)
        fields, sdp = list(form), form.get("sdp")
    elif base == "application/sdp" or is_sdp(text):
        sdp = text
    elif text.lstrip().startswith("{"):
        try:
            body = json_value(text)
        except ValueError:
            body = None
        if isinstance(body, dict):
            nested = body.get("offer") if isinstance(body.get("offer"), dict) else {}
            sdp = body.get("sdp") or nested.get("sdp")
    return (sdp if isinstance(sdp, str) and is_sdp(sdp) else None), content_type, fields


def _body(response: dict[str, Any]) -> str | None:
    content = response.get("content") or {}
    text = content.get("text")
    if not isinstance(text, str):
        return None
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return None
    return text


def _answer(body: str | None) -> str | None:
    if body is None:
        return None
    if is_sdp(body):
        return body
    if body.lstrip().startswith("{"):
        try:
            data = json_value(body)
        except ValueError:
            return None
        sdp = data.get("sdp") if isinstance(data, dict) else None
        return sdp if isinstance(sdp, str) and is_sdp(sdp) else None
    return None


def recognise(url: str, content_type: str, fields: list[str], headers: dict[str, str], status: int | None,
              location: str | None) -> str:
    """The signaling protocol an exchange speaks (as in capture headers and `--protocol`)."""
    base = content_type.split(";")[0].strip().lower()
    path = urlsplit(url).path.rstrip("/").lower()
    if _header(headers, "openai-beta") is not None:
        return "openai-beta"
    if base == "multipart/form-data" and "sdp" in fields or path.endswith("/realtime/calls"):
        return "openai"
    if base == "application/sdp" and status == 201 and location:
        return "whip"
    return guess_protocol(url)


def _exchange(entry: dict[str, Any], phase: str, start_ms: float, fields: list[str], content_type: str | None,
              answer: str | None) -> tuple[float, dict[str, Any]]:
    request, response = entry.get("request") or {}, entry.get("response") or {}
    began = epoch_ms(entry.get("startedDateTime")) or start_ms
    total = entry.get("time") if isinstance(entry.get("time"), int | float) and entry["time"] >= 0 else 0.0
    status = response.get("status") if isinstance(response.get("status"), int) and response["status"] > 0 else None
    response_headers = _headers(response)
    body = _body(response)
    exchange = HttpExchange(
        phase=phase, method=str(request.get("method", "")), url=redact_url(str(request.get("url", ""))), status=status,
        request_headers=_headers(request), response_headers=response_headers,
        request_content_type=content_type, response_content_type=_header(response_headers, "content-type"),
        form_fields=fields, t_request=round((began - start_ms) / 1000.0, 6),
        t_response=round((began + total - start_ms) / 1000.0, 6) if status is not None else None,
        location=_header(response_headers, "location"), etag=_header(response_headers, "etag"),
        body_excerpt=excerpt(body) if body and answer is None else None,
        error=None if status is not None else str(response.get("_error") or entry.get("_error") or "no response"),
    )
    event = exchange.to_event()
    timings = entry.get("timings") or {}
    event["timings"] = {k: timings[k] for k in _TIMINGS if isinstance(timings.get(k), int | float)}
    return began + total, event


def read(path: Path, *, pc: str | None, sinks: SinkFactory, stats: bool = True,
         progress: Progress | None = None) -> tuple[list[Recorder], list[str]]:
    """One session per signaling exchange (numbered 1, 2, ... in file order), or only `pc`."""
    progress = progress or NoProgress()
    har, problems = parse_json(read_text(path, "a HAR file (JSON)", progress), path, "a HAR file")
    entries = (har.get("log") or {}).get("entries") if isinstance(har, dict) else None
    if not isinstance(entries, list):
        raise InputError("not a HAR file (expected {\"log\": {\"entries\": [...]}})", str(path))
    entries = sorted((e for e in entries if isinstance(e, dict)), key=lambda e: epoch_ms(e.get("startedDateTime")) or 0)
    for entry in entries:  # user:password@ and ?token= of any request: scrubbed wherever they recur
        request = entry.get("request")
        if isinstance(request, dict) and isinstance(request.get("url"), str):
            register_url_credentials(request["url"])
    offers = [(i, e) for i, e in enumerate(entries)
              if str((e.get("request") or {}).get("method", "")).upper() == "POST" and _offer(e["request"])[0]]
    if not offers:
        raise InputError(f"no signaling exchange in this HAR ({len(entries)} requests): no POST with an "
                         "application/sdp body, a multipart form with an `sdp` field or JSON with an `sdp` field",
                         str(path))
    keys = [str(n) for n in range(1, len(offers) + 1)]
    if pc is not None and pc not in keys:
        raise InputError(f"no exchange {pc!r} in this HAR (it has {', '.join(keys)})", str(path))
    chosen = [(key, index) for key, (index, _) in zip(keys, offers, strict=True) if pc is None or key == pc]
    return [_session(path, key, index, entries).record(sinks) for key, index in chosen], problems


@dataclass
class _Pending:
    """One exchange's events, gathered before its sink opens (the sink needs the start time)."""

    info: SessionInfo
    items: list[tuple[float, int, str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    outcome: tuple[str, str] = ("completed", "")

    def add(self, ms: float, kind: str, payload: Any) -> None:
        self.items.append((ms, len(self.items), kind, payload))

    def record(self, sinks: SinkFactory) -> Recorder:
        recorder = Recorder(self.info, sinks(self.info))
        recorder.problems.extend(self.problems)
        for ms, _, kind, payload in sorted(self.items):
            if kind == "sdp":
                recorder.description(ms, *payload)
            else:
                recorder.http(ms, payload)
        recorder.finish(*self.outcome)
        return recorder


def _outcome(path: Path, key: str, event: dict[str, Any], answer: str | None) -> tuple[str, str]:
    where = f"imported from HAR {path.name} (exchange {key})"
    summary = HttpExchange(phase="offer", method=event["method"], url=event["url"], status=event["status"]).summary
    if event["status"] is None:
        return "http", f"{where}: {summary} got no response ({event['error']})"
    if not 200 <= event["status"] < 300:
        return "http", f"{where}: {summary}"
    if answer is None:
        return "http", f"{where}: {summary}, but the HAR holds no SDP answer"
    return "completed", f"{where}: {summary} with an SDP answer"


def _session(path: Path, key: str, index: int, entries: list[dict[str, Any]]) -> _Pending:
    entry = entries[index]
    request = entry["request"]
    offer, content_type, fields = _offer(request)
    start = epoch_ms(entry.get("startedDateTime")) or 0.0
    body = _body(entry.get("response") or {})
    answer = _answer(body)
    ended, event = _exchange(entry, "offer", start, fields, content_type, answer)
    url = str(request.get("url", ""))
    protocol = recognise(url, content_type, fields, event["request_headers"], event["status"], event["location"])
    pending = _Pending(SessionInfo(path, FORMAT, key, start, target=url, protocol=protocol))
    pending.add(start, "sdp", ("local", "offer", offer))
    pending.add(ended, "http", event)
    if answer is not None:
        pending.add(ended, "sdp", ("remote", "answer", answer))
    elif event["status"] is not None and 200 <= event["status"] < 300:
        pending.problems.append(f"{path}: exchange {key}: the HAR holds no response body (saved without "
                                "content?): no answer")
    if event["location"]:
        resource = urljoin(url, event["location"])
        for later in entries[index + 1:]:
            req = later.get("request") or {}
            target = str(req.get("url", ""))
            if target == resource or target.startswith(resource + "/"):
                method = str(req.get("method", "")).upper()
                phase = {"PATCH": "patch", "DELETE": "teardown"}.get(method, "teardown" if target.endswith("/hangup")
                                                                      else method.lower())
                ms, follow_up = _exchange(later, phase, start, [], (req.get("postData") or {}).get("mimeType"), None)
                pending.add(ms, "http", follow_up)
    pending.outcome = _outcome(path, key, event, answer)
    return pending

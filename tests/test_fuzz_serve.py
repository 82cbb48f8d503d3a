"""Generated requests against a live reference target (raw sockets on 127.0.0.1): whatever the
method, path, headers, content type and body, the answer is an HTTP status below 500 (or the 503
of a full target), it comes (no hang), and the server logs no unexpected error."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import raw_http
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtcprobe.server import ServerConfig, run_server

REALWORLD = Path(__file__).parent / "data" / "realworld" / "sdp"
SEEDS = [path.read_text(errors="replace") for path in sorted(REALWORLD.glob("*.sdp"))[:40]]
HANG_GUARD = 20.0  # seconds for one answer: a guard against hangs, not a speed assertion


class Errors(logging.Handler):
    """Error records of the server's loggers: an unexpected exception logs one."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def target() -> Iterator[tuple[int, Errors]]:
    """A target with a token-less and a bearer-token personality is two targets; the token one is
    the harder (every request passes the auth check first), so the fuzz runs against a token-less
    one where every body is parsed."""
    errors = Errors()
    for name in ("rtcprobe", "aiohttp"):
        logging.getLogger(name).addHandler(errors)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fuzz-target", daemon=True)
    thread.start()
    config = ServerConfig(header_timeout=5.0, body_timeout=5.0)
    runner, base_url = asyncio.run_coroutine_threadsafe(run_server(config), loop).result(30)
    yield int(base_url.rsplit(":", 1)[1]), errors
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(60)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    for name in ("rtcprobe", "aiohttp"):
        logging.getLogger(name).removeHandler(errors)


URL_CHARS = st.lists(st.sampled_from(list("abcXYZ019-._~!$&'()*+,;=:@/%?#\\") + ["%2F", "%5C", "%00", "%0d%0a",
                                                                              "%ff", "%C3%A9", "é"]),
                     max_size=20).map("".join)
PATHS = st.one_of(
    st.sampled_from(["/whip", "/whip/x", "/v1/realtime/calls", "/v1/realtime/calls/rtc_x", "/offer",
                     "/v1/realtime/calls/rtc_x/hangup", "/v1/realtime", "/offer/x", "/", "*"]),
    st.builds(lambda code, rest: f"/redirect/{code}/{rest}", st.sampled_from(["301", "307", "999"]), URL_CHARS),
    st.builds(lambda base, rest: base + rest, st.sampled_from(["/whip/", "/offer/", "/v1/realtime/calls/"]), URL_CHARS),
)
METHODS = st.sampled_from(["POST", "POST", "POST", "DELETE", "PATCH", "GET", "HEAD", "OPTIONS", "PUT",
                           "BREW", "post", "M-SEARCH"])
CONTENT_TYPES = st.one_of(
    st.sampled_from([
        "application/sdp", "application/sdp; charset=utf-8", "application/sdp; charset=utf-16",
        "application/sdp; charset=latin-1", "application/sdp; charset=bogus", "application/sdp; charset=base64",
        "application/sdp; charset=\"", "application/json", "application/json; charset=utf-32",
        "multipart/form-data; boundary=zz", "multipart/form-data", "multipart/form-data; boundary=",
        "multipart/form-data; boundary=zz; charset=utf-16", "application/x-www-form-urlencoded",
        "application/trickle-ice-sdpfrag", "text/plain", "", ";;;", "application/sdp;charset",
    ]),
    st.text(max_size=30),
)
# mostly what a parser lets through (visible ASCII, obs-text bytes), sometimes anything but CR/LF
HEADER_BYTES = st.one_of(
    st.lists(st.sampled_from([bytes([c]) for c in [*range(0x20, 0x7f), *range(0x80, 0x100)]]), max_size=40)
    .map(b"".join),
    st.sampled_from([b"Bearer sk-test", b"Bearer \xe9", b"*", b'"abc"', b"realtime=v1", b"http://localhost:1"]),
    st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
)


@st.composite
def mangled_sdp(draw: st.DrawFn) -> bytes:
    lines = draw(st.sampled_from(SEEDS)).splitlines()
    for _ in range(draw(st.integers(0, 4))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        action = draw(st.sampled_from(["drop", "mutate", "truncate"]))
        if action == "drop":
            del lines[i]
        elif action == "mutate":
            lines[i] = lines[i][:draw(st.integers(0, len(lines[i])))] + draw(st.text(max_size=6))
        else:
            lines = lines[:i]
    return "\r\n".join(lines).encode(draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])), "replace")


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children,
                                                                                      max_size=3), max_leaves=10)


@st.composite
def json_body(draw: st.DrawFn) -> bytes:
    shape = draw(st.sampled_from(["offer", "any", "deep", "raw"]))
    if shape == "offer":
        sdp = draw(st.one_of(JSON, mangled_sdp().map(lambda b: b.decode("utf-8", "replace"))))
        return json.dumps({"type": "offer", "sdp": sdp}).encode()
    if shape == "deep":
        depth = draw(st.integers(10, 20_000))
        return b'{"sdp":' * depth + b"1" + b"}" * depth
    if shape == "raw":
        return draw(st.binary(max_size=60))
    return json.dumps(draw(JSON)).encode()


@st.composite
def form_body(draw: st.DrawFn) -> bytes:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from([b"sdp", b"session", b"x", b"sdp\"; filename=\"a.sdp"]))
        value = draw(st.one_of(mangled_sdp(), json_body(), st.binary(max_size=30)))
        parts.append(b"--zz\r\nContent-Disposition: form-data; name=\"" + name + b"\"\r\n\r\n" + value + b"\r\n")
    end = draw(st.sampled_from([b"--zz--\r\n", b"", b"--zz", b"--yy--\r\n"]))
    return b"".join(parts) + end


BODIES = st.one_of(mangled_sdp(), json_body(), form_body(), st.binary(max_size=200), st.just(b""))
HOSTS = st.sampled_from([b"localhost", b"localhost", b"127.0.0.1", b"[::1]", b"localhost:1", b"evil.example",
                         b"", b"[::1", b"127.0.0.1.evil.example", b"\xff"])


@st.composite
def offer_request(draw: st.DrawFn) -> bytes:
    """A plausible offer (a real-world SDP, perhaps mangled, to an offer endpoint) so that the fuzz
    also reaches SDP parsing, session setup and the answer, not only the HTTP edges."""
    path, content_type = draw(st.sampled_from([("/whip", b"application/sdp"), ("/offer", b"application/sdp"),
                                               ("/v1/realtime", b"application/sdp"),
                                               ("/v1/realtime/calls", b"application/sdp")]))
    body = draw(mangled_sdp())
    if body.startswith(b"\xff\xfe"):
        content_type += b"; charset=utf-16"
    return (b"POST %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: %s\r\n"
            b"Content-Length: %d\r\n\r\n" % (path.encode(), content_type, len(body))) + body


@st.composite
def any_request(draw: st.DrawFn) -> bytes:
    method, path = draw(METHODS), draw(PATHS)
    lines = [f"{method} {path} HTTP/1.1".encode("utf-8", "surrogatepass"), b"Connection: close"]
    if draw(st.integers(0, 19)):  # HTTP/1.1 requires Host; its absence is refused by the parser
        lines.append(b"Host: " + draw(HOSTS))
    if draw(st.integers(0, 5)):
        lines.append(b"Content-Type: " + draw(CONTENT_TYPES).encode("utf-8", "surrogatepass"))
    for name in (b"Authorization", b"Origin", b"If-Match", b"OpenAI-Beta", b"Access-Control-Request-Method"):
        if draw(st.integers(0, 3)) == 0:
            lines.append(name + b": " + draw(HEADER_BYTES))
    body = draw(BODIES)
    lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(line.replace(b"\r", b"").replace(b"\n", b"") for line in lines) + b"\r\n\r\n" + body


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow, HealthCheck.data_too_large])
@given(raw=st.one_of(any_request(), any_request(), offer_request()))
def test_generated_requests_never_get_a_500_or_hang(target: tuple[int, Errors], raw: bytes) -> None:
    port, errors = target
    answer = raw_http(port, raw, timeout=HANG_GUARD)  # socket.timeout: the target hung
    assert answer.status is not None, answer.body[:200]
    assert answer.status < 500 or (answer.status == 503 and "retry-after" in answer.headers), answer
    assert not errors.records, [r.getMessage() for r in errors.records]

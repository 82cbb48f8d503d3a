"""Issue 10, the reference target as a network service: hostile requests to a real `rtcprobe serve`
(a subprocess under a memory limit, raw sockets on 127.0.0.1) get a 4xx, never a 500, a hang or a
traceback; slow clients are cut off; resources, redirects, Host names and session counts are held
to what the README promises."""

from __future__ import annotations

import asyncio
import json
import resource
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from hostile import MEMORY_LIMIT, raw_http
from test_signaling import TOKEN, offer_sdp, reference_targets

from rtcprobe.server.middleware import CONFIG

serve = pytest.fixture(name="serve")(reference_targets)

REALWORLD_OFFER = Path(__file__).parent / "data" / "realworld" / "sdp" / "chime-chrome-offer-audio-video.sdp"
HEADER_TIMEOUT = 1.0  # seconds, given to the served target so that slow-client tests stay short
BODY_TIMEOUT = 1.0
CAP = 20  # connections per address
MARGIN = 10.0  # hang guard on top of a timeout: not a speed assertion
# an evil page served from evil.example whose DNS name was re-pointed at 127.0.0.1
EVIL_HOST = "evil.example"


@dataclass
class Served:
    port: int
    proc: subprocess.Popen[str]
    stderr: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`rtcprobe serve` in a subprocess under the hostile suite's memory limit."""
    stderr = tmp_path_factory.mktemp("serve") / "stderr.txt"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rtcprobe.cli", "serve", "--port", "0",
             "--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT),
             "--max-connections-per-ip", str(CAP), "--max-sessions", "20"],
            stdout=subprocess.PIPE, stderr=err, text=True, preexec_fn=limit)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    assert ready, f"serve did not start: {stderr.read_text()}"
    first = proc.stdout.readline()  # "rtcprobe reference target at http://127.0.0.1:PORT"
    assert "http://127.0.0.1:" in first, first + stderr.read_text()
    yield Served(int(first.rsplit(":", 1)[1]), proc, stderr)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 128 + signal.SIGINT  # stopped as Ctrl-C stops it: every session closed
    log = stderr.read_text()
    assert "Traceback" not in log and "unexpected error" not in log, log


def request(method: str, path: str, body: bytes = b"", *, host: str = "localhost", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def gzip_bomb(expanded: int) -> bytes:
    """`expanded` zero bytes, gzipped (a thousandfold smaller)."""
    import zlib

    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(expanded >> 20)) + packer.flush()


def multipart(*parts: bytes, end: bool = True) -> bytes:
    """Parts between `--zz` boundaries (each part ends with its own CRLF), closed unless `end` is False."""
    return b"".join(b"--zz\r\n" + part for part in parts) + (b"--zz--\r\n" if end else b"")


SDP = "application/sdp"
FORM = "multipart/form-data; boundary=zz"
SDP_PART = b'Content-Disposition: form-data; name="sdp"\r\n\r\nv=0\r\n'

# (name, raw request, expected status): every class of malformed offer the issue lists
MALFORMED = [
    ("invalid-utf8", request("POST", "/whip", b"v=0\r\n\xff\xfe\xfd", Content_Type=SDP), 400),
    ("unknown-charset", request("POST", "/whip", b"v=0\r\n", Content_Type=SDP + "; charset=klingon"), 415),
    ("binary-codec-charset", request("POST", "/offer", b"djA=", Content_Type=SDP + "; charset=base64"), 415),
    ("utf16-half", request("POST", "/whip", "v=0\r\n".encode("utf-16")[:-1],
                           Content_Type=SDP + "; charset=utf-16"), 400),
    ("json-sdp-number", request("POST", "/offer", b'{"type":"offer","sdp":1}', Content_Type="application/json"), 400),
    ("json-sdp-list", request("POST", "/offer", b'{"type":"offer","sdp":["v=0"]}', Content_Type="application/json"), 400),
    ("json-sdp-object", request("POST", "/offer", b'{"type":"offer","sdp":{}}', Content_Type="application/json"), 400),
    ("json-sdp-null", request("POST", "/offer", b'{"type":"offer","sdp":null}', Content_Type="application/json"), 400),
    ("json-not-object", request("POST", "/offer", b'["offer"]', Content_Type="application/json"), 400),
    ("json-deep", request("POST", "/offer", b"[" * 100_000 + b"]" * 100_000, Content_Type="application/json"), 400),
    ("json-long-int", request("POST", "/offer", b'{"sdp":' + b"9" * 5000 + b"}", Content_Type="application/json"), 400),
    ("json-invalid-utf8", request("POST", "/offer", b'{"sdp":"\xff"}', Content_Type="application/json"), 400),
    ("multipart-no-boundary", request("POST", "/v1/realtime/calls", SDP_PART, Content_Type="multipart/form-data"), 400),
    ("multipart-cut", request("POST", "/v1/realtime/calls", multipart(b'Content-Disposition: form-data; name="sdp"\r\n', end=False),
                              Content_Type=FORM), 400),
    ("multipart-no-end", request("POST", "/v1/realtime/calls", multipart(SDP_PART, end=False), Content_Type=FORM), 400),
    ("multipart-bad-utf8", request("POST", "/v1/realtime/calls", multipart(
        b'Content-Disposition: form-data; name="sdp"\r\n\r\n\xff\xfe\r\n'), Content_Type=FORM), 400),
    ("multipart-session-deep", request("POST", "/v1/realtime/calls", multipart(
        SDP_PART, b'Content-Disposition: form-data; name="session"\r\n\r\n' + b"[" * 50_000 + b"\r\n"),
        Content_Type=FORM), 400),
    ("form-urlencoded", request("POST", "/v1/realtime/calls", b"sdp=v%3D0",
                                Content_Type="application/x-www-form-urlencoded"), 415),
    ("patch-invalid-utf8", request("PATCH", "/whip/nope", b"\xff", Content_Type="application/trickle-ice-sdpfrag"), 404),
    ("too-large", request("POST", "/whip", b"v" * (1024 * 1024 + 1), Content_Type=SDP), 413),
    ("gzip-bomb", request("POST", "/whip", gzip_bomb(64 << 20), Content_Type=SDP, Content_Encoding="gzip"), 413),
    ("unknown-method", request("BREW", "/whip"), 405),
    ("unknown-method-unknown-path", request("BREW", "/coffee"), 404),
    ("redirect-scheme-relative", request("GET", "/redirect/307//evil.example/x"), 400),
    ("redirect-encoded-slashes", request("GET", "/redirect/307/%2F%2Fevil.example/x"), 400),
    ("redirect-backslash", request("GET", "/redirect/307/%5Cevil.example/x"), 400),
    ("redirect-scheme", request("GET", "/redirect/307/https://evil.example/x"), 400),
    ("redirect-control", request("GET", "/redirect/307/whip%01x"), 400),
    ("redirect-newline", request("GET", "/redirect/307/whip%0d%0aSet-Cookie:%20x=1"), 404),  # no route matches
    ("rebinding-host", request("POST", "/whip", b"v=0\r\n", host=EVIL_HOST, Content_Type=SDP), 421),
    ("rebinding-host-port", request("DELETE", "/whip/x", host=EVIL_HOST + ":8080"), 421),
    ("rebinding-ip-lookalike", request("DELETE", "/whip/x", host="127.0.0.1.evil.example"), 421),
]


@pytest.mark.parametrize("raw,status", [(raw, status) for _, raw, status in MALFORMED],
                         ids=[name for name, _, _ in MALFORMED])
def test_malformed_requests_get_a_4xx(served: Served, raw: bytes, status: int) -> None:
    answer = raw_http(served.port, raw, timeout=MARGIN)
    assert answer.status == status, answer
    assert "location" not in answer.headers
    if answer.headers.get("content-type", "").startswith("application/json"):
        message = json.loads(answer.body)["error"]["message"]
        assert message and "\n" not in message and "Traceback" not in message


def test_non_ascii_authorization_is_401_not_500(serve_token_port: int) -> None:
    for value in (b"Bearer \xe9\xff", b"Bearer " + TOKEN.encode() + b"\x80", b"\xc3\xa9"):
        raw = (b"DELETE /whip/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: "
               + value + b"\r\n\r\n")
        assert raw_http(serve_token_port, raw, timeout=MARGIN).status == 401


@pytest.fixture
def serve_token_port() -> Iterator[int]:
    """A target with --token on its own thread's loop, for the synchronous raw-socket tests."""
    import threading

    from rtcprobe.server import ServerConfig, run_server

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    runner, base_url = asyncio.run_coroutine_threadsafe(run_server(ServerConfig(token=TOKEN)), loop).result(30)
    yield int(base_url.rsplit(":", 1)[1])
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_unknown_method_answers_405_with_allow(served: Served) -> None:
    for method in ("BREW", "PUT"):
        answer = raw_http(served.port, request(method, "/whip/abc"), timeout=MARGIN)
        assert answer.status == 405 and answer.headers["allow"] == "DELETE,GET,HEAD,PATCH", (method, answer)


def test_redirects_stay_on_this_target(served: Served) -> None:
    answer = raw_http(served.port, request("POST", "/redirect/307/whip?x=%2F%2Fa"), timeout=MARGIN)
    assert (answer.status, answer.headers["location"]) == (307, "/whip?x=%2F%2Fa")


def test_loopback_host_names_are_served(served: Served) -> None:
    for host in ("localhost", f"localhost:{served.port}", f"127.0.0.1:{served.port}", "127.0.0.2",
                 f"[::1]:{served.port}", "[::1]", "LOCALHOST.", f"[::ffff:127.0.0.1]:{served.port}",
                 f"0.0.0.0:{served.port}", "probe.localhost"):
        answer = raw_http(served.port, request("DELETE", "/whip/nope", host=host), timeout=MARGIN)
        assert answer.status == 404, host


def test_utf16_offer_is_decoded_whole(served: Served) -> None:
    offer = REALWORLD_OFFER.read_text()
    raw = request("POST", "/whip", offer.encode("utf-16"), Content_Type=SDP + "; charset=utf-16")
    answer = raw_http(served.port, raw, timeout=MARGIN)
    assert answer.status == 201, answer
    assert answer.body.decode().count("m=") == offer.count("\nm=")  # every m-line answered
    deleted = raw_http(served.port, request("DELETE", answer.headers["location"]), timeout=MARGIN)
    assert deleted.status == 200


def test_a_body_that_never_arrives_is_answered_408(served: Served) -> None:
    raw = request("POST", "/whip", b"", Content_Type=SDP).replace(b"Content-Length: 0", b"Content-Length: 1000000")
    start = time.monotonic()
    answer = raw_http(served.port, raw + b"v=0\r\n", timeout=BODY_TIMEOUT + MARGIN)
    assert answer.status == 408
    assert time.monotonic() - start < BODY_TIMEOUT + MARGIN


def test_slowloris_is_capped_and_closed_while_a_normal_client_is_served(served: Served) -> None:
    start = time.monotonic()
    sockets = []
    try:
        for _ in range(50):  # headers never finished
            sock = socket.create_connection(("127.0.0.1", served.port), timeout=HEADER_TIMEOUT + MARGIN)
            sock.sendall(b"POST /whip HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            sockets.append(sock)
        # another client address (all of 127/8 is loopback) is served meanwhile
        answer = raw_http(served.port, request("DELETE", "/whip/nope"), timeout=MARGIN, source="127.0.0.2")
        assert answer.status == 404
        refused = closed = 0
        for sock in sockets:  # socket.timeout here: a slow client was kept open
            received = b""
            try:
                while chunk := sock.recv(4096):
                    received += chunk
            except ConnectionResetError:  # refused with its request unread: the kernel resets
                received = b"reset"
            if received.startswith(b"HTTP/1.1 503") or received == b"reset":
                refused += 1
            else:
                assert received == b"", received
                closed += 1
        assert (refused, closed) == (50 - CAP, CAP)
        assert time.monotonic() - start < HEADER_TIMEOUT + MARGIN
    finally:
        for sock in sockets:
            sock.close()
    # the cap is free again
    assert raw_http(served.port, request("DELETE", "/whip/nope"), timeout=MARGIN).status == 404


def test_headers_dribbled_byte_by_byte_are_cut_at_the_header_deadline(served: Served) -> None:
    header = b"POST /whip HTTP/1.1\r\nHost: localhost\r\n" + b"X-Slow: a\r\n" * 1000
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", served.port), timeout=MARGIN) as sock:
        for byte in header:  # a byte every 50 ms: progress all the time, never a whole request
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            ready, _, _ = select.select([sock], [], [], 0.05)
            if ready and sock.recv(4096) == b"":
                break  # closed by the target
            assert time.monotonic() - start < HEADER_TIMEOUT + MARGIN, "kept past the header deadline"
        else:
            pytest.fail("the whole dribble was accepted")


# -- in-process targets: resources, tokens, session limits ---------------------------------------


async def _post_offer(http: aiohttp.ClientSession, url: str, **headers: str) -> aiohttp.ClientResponse:
    async with http.post(url, data=await offer_sdp(), headers={"Content-Type": SDP, **headers}) as response:
        await response.read()
        return response


async def test_a_resource_belongs_to_its_endpoint(serve) -> None:
    target = await serve()
    async with aiohttp.ClientSession() as http:
        whip = await _post_offer(http, target.url("/whip"))
        offer = await _post_offer(http, target.url("/offer"))
        whip_id = whip.headers["Location"].rsplit("/", 1)[1]
        offer_id = offer.headers["Location"].rsplit("/", 1)[1]
        for path in (f"/offer/{whip_id}", f"/v1/realtime/calls/rtc_{whip_id}",
                     f"/v1/realtime/calls/rtc_{whip_id}/hangup", f"/whip/{offer_id}",
                     f"/v1/realtime/calls/{whip_id}"):
            method = http.post if path.endswith("hangup") else http.delete
            async with method(target.url(path)) as response:
                assert response.status == 404, path
        assert set(target.sessions) == {whip_id, offer_id}
        for location in (whip.headers["Location"], offer.headers["Location"]):
            async with http.delete(target.url(location)) as response:
                assert response.status == 200
    assert target.sessions == {}


async def test_a_resource_belongs_to_the_token_that_made_it(serve) -> None:
    target = await serve(token=TOKEN)
    async with aiohttp.ClientSession() as http:
        made = await _post_offer(http, target.url("/whip"), Authorization=f"Bearer {TOKEN}")
        assert made.status == 201
        rotated = "sk-rotated-fedcba9876543210"
        target.app[CONFIG].token = rotated  # the operator rotates the token
        url = target.url(made.headers["Location"])
        async with http.delete(url, headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 401
        async with http.delete(url, headers={"Authorization": f"Bearer {rotated}"}) as response:
            assert response.status == 404  # valid now, but not the token that made it
        target.app[CONFIG].token = TOKEN
        async with http.delete(url, headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 200


async def test_max_sessions_answers_503_with_retry_after(serve) -> None:
    target = await serve(max_sessions=2)
    async with aiohttp.ClientSession() as http:
        answers = await asyncio.gather(*(_post_offer(http, target.url("/whip")) for _ in range(5)))
        assert sorted(a.status for a in answers) == [201, 201, 503, 503, 503]
        refused = next(a for a in answers if a.status == 503)
        assert int(refused.headers["Retry-After"]) > 0
        assert len(target.sessions) == 2
        made = next(a for a in answers if a.status == 201)
        async with http.delete(target.url(made.headers["Location"])) as response:
            assert response.status == 200
        assert (await _post_offer(http, target.url("/whip"))).status == 201  # a slot came free


async def test_the_chromium_harness_host_is_accepted_and_others_refused(serve) -> None:
    target = await serve()
    port = target.base_url.rsplit(":", 1)[1]
    async with aiohttp.ClientSession() as http:
        for host, status in ((f"localhost:{port}", 404), (f"{EVIL_HOST}:{port}", 421)):
            async with http.delete(target.url("/whip/nope"), headers={"Host": host}) as response:
                assert response.status == status, host


async def test_an_unexpected_error_is_a_logged_500_without_internals(serve, monkeypatch, caplog) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("internal detail /srv/secret/path")

    monkeypatch.setattr("rtcprobe.server.app.open_session", broken)
    target = await serve()
    with caplog.at_level("ERROR", logger="rtcprobe.server"):
        async with aiohttp.ClientSession() as http:
            response = await _post_offer(http, target.url("/whip"))
            body = await response.text()
    assert response.status == 500
    assert "internal detail" not in body and "Traceback" not in body and "\n" not in body.strip()
    assert json.loads(body)["error"]["code"] == "server_error"
    [record] = [r for r in caplog.records if r.name == "rtcprobe.server.middleware"]
    assert record.exc_info is not None and "internal detail" in str(record.exc_info[1])  # the server keeps it

"""Signaling adapters against the reference target: real aiortc sessions on loopback, one per
protocol, and every way an HTTP exchange can fail."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCSessionDescription,
)

from rtcprobe.capture import events
from rtcprobe.probe.media import TestPatternSource, ToneSource
from rtcprobe.server import ServerConfig, run_server
from rtcprobe.server.app import SESSIONS
from rtcprobe.server.realtime import level_dbfs
from rtcprobe.signaling import (
    PROTOCOLS,
    HttpSignaler,
    SignalingError,
    SignalingResult,
    guess_protocol,
    ice_servers_from_links,
    make_signaler,
    parse_link_headers,
)

TOKEN = "sk-test-0123456789abcdef"
WAIT = 15.0  # a guard against hangs, not a threshold: sessions take well under a second
HTTP_EVENT_FIELDS = {
    "event", "t", "phase", "method", "url", "status", "request_headers", "response_headers",
    "request_content_type", "response_content_type", "form_fields", "t_request", "t_response",
    "location", "etag", "body_excerpt", "error",
}
ENDPOINTS = {"whip": "/whip", "whep": "/whep", "openai": "/v1/realtime/calls", "openai-beta": "/v1/realtime",
             "sdp-post": "/offer"}


# -- helpers shared with test_server.py ------------------------------------------------------


@dataclass
class Target:
    base_url: str
    app: Any

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def sessions(self) -> dict[str, Any]:
        return self.app[SESSIONS]


async def reference_targets() -> AsyncIterator[Callable[..., Awaitable[Target]]]:
    """Start reference targets on 127.0.0.1 (free ports) with ServerConfig keywords."""
    runners = []

    async def start(**config: Any) -> Target:
        runner, base_url = await run_server(ServerConfig(**config))
        runners.append(runner)
        return Target(base_url, runner.app)

    yield start
    for runner in runners:
        await runner.cleanup()


async def peer_connections() -> AsyncIterator[list[RTCPeerConnection]]:
    """Client peer connections, closed after the test."""
    pcs: list[RTCPeerConnection] = []
    yield pcs
    for pc in pcs:
        await pc.close()


# test_server.py makes the same fixtures from the same generators
serve = pytest.fixture(name="serve")(reference_targets)
clients = pytest.fixture(name="clients")(peer_connections)


@dataclass
class Client:
    """A plain aiortc offerer: the probe's stand-in, so adapter tests do not depend on it."""

    pc: RTCPeerConnection
    channel: RTCDataChannel | None
    messages: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    tracks: dict[str, asyncio.Future[MediaStreamTrack]] = field(default_factory=dict)
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    result: SignalingResult | None = None

    async def next_message(self) -> Any:
        return await asyncio.wait_for(self.messages.get(), WAIT)

    async def next_event(self, event_type: str) -> dict[str, Any]:
        """The next oai-events message of `event_type` (earlier ones are skipped)."""
        while True:
            event = json.loads(await self.next_message())
            if event["type"] == event_type:
                return event

    def _track_future(self, kind: str) -> asyncio.Future[MediaStreamTrack]:
        return self.tracks.setdefault(kind, asyncio.get_running_loop().create_future())

    def on_track(self, track: MediaStreamTrack) -> None:
        future = self._track_future(track.kind)
        if not future.done():
            future.set_result(track)

    async def track(self, kind: str) -> MediaStreamTrack:
        """The first received track of `kind`."""
        return await asyncio.wait_for(asyncio.shield(self._track_future(kind)), WAIT)


async def connect(signaler: HttpSignaler, pcs: list[RTCPeerConnection], *,
                  audio: str | None = "sendrecv", video: str | None = None,
                  audio_track: MediaStreamTrack | None = None, label: str | None = "echo",
                  on_open: Callable[[RTCDataChannel], None] | None = None) -> Client:
    """Offer (audio, video, a data channel), exchange through `signaler`, apply the answer."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pcs.append(pc)
    if audio:
        track = None if audio == "recvonly" else audio_track or ToneSource(frequency=700)
        pc.addTransceiver(track or "audio", direction=audio)
    if video:
        track = None if video == "recvonly" else TestPatternSource(size=(320, 240), fps=15)
        pc.addTransceiver(track or "video", direction=video)
    label = next(iter(signaler.channels), label)
    channel = pc.createDataChannel(label) if label else None
    client = Client(pc, channel)
    pc.on("track", client.on_track)

    @pc.on("connectionstatechange")
    def on_state() -> None:
        if pc.connectionState == "connected":
            client.connected.set()

    if channel is not None:
        channel.on("message", client.messages.put_nowait)

        @channel.on("open")
        def opened() -> None:
            for message in signaler.on_channel_open(channel):  # as the probe does: we send them
                assert json.loads(message)["type"] == "session.update"
                channel.send(message)
            if on_open:
                on_open(channel)

    await pc.setLocalDescription(await pc.createOffer())
    client.result = await signaler.exchange(pc.localDescription.sdp)
    await pc.setRemoteDescription(RTCSessionDescription(client.result.answer_sdp, "answer"))
    return client


async def loudest_dbfs(track: MediaStreamTrack, frames: int = 25) -> float:
    """The loudest of the next `frames` frames of a received audio track."""
    return max([level_dbfs(await asyncio.wait_for(track.recv(), WAIT)) for _ in range(frames)])


def leaks(token: str, exchanges: list[Any]) -> list[str]:
    return [json.dumps(e.to_event()) for e in exchanges if token in json.dumps(e.to_event())]


async def offer_sdp() -> str:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("audio", direction="sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


# -- one real session per protocol --------------------------------------------------------------


@pytest.mark.parametrize("protocol,options", [
    ("whip", {}), ("openai", {}), ("openai-beta", {}), ("sdp-post", {"offer_format": "sdp"}),
    ("sdp-post", {"offer_format": "json"}),
], ids=["whip", "openai", "openai-beta", "sdp-post-sdp", "sdp-post-json"])
async def test_session_per_protocol(serve, clients, protocol: str, options: dict[str, Any]) -> None:
    target = await serve(token=TOKEN)
    url = target.url(ENDPOINTS[protocol])
    assert guess_protocol(url) == protocol
    signaler = make_signaler(protocol, url, token=TOKEN, **options)
    client = await connect(signaler, clients)

    await asyncio.wait_for(client.connected.wait(), WAIT)
    assert client.pc.connectionState == "connected"
    # our 700 Hz tone comes back: echo, not a server-made source (that would be silence)
    assert await loudest_dbfs(await client.track("audio")) > -30

    if protocol in ("openai", "openai-beta"):
        created = await client.next_event("session.created")
        assert created["session"]["model"] == ("gpt-realtime" if protocol == "openai"
                                               else "gpt-4o-realtime-preview")
        if protocol == "openai-beta":
            updated = await client.next_event("session.updated")
            assert updated["session"]["modalities"] == ["audio", "text"]
    else:
        client.channel.send("ping 1")
        client.channel.send(b"\x00binary")
        assert await client.next_message() == "ping 1"
        assert await client.next_message() == b"\x00binary"

    result = client.result
    offer = result.exchanges[-1]
    assert offer.phase == "offer" and offer.method == "POST"
    assert offer.status == (200 if protocol == "sdp-post" else 201)
    assert offer.body_excerpt is None and offer.error is None
    assert offer.t_request <= offer.t_response
    if protocol == "openai":
        assert offer.form_fields == ["sdp", "session"]
        assert offer.request_content_type.startswith("multipart/form-data; boundary=")
    if protocol == "openai-beta":
        assert offer.request_headers["OpenAI-Beta"] == "realtime=v1"
        assert "model=gpt-4o-realtime-preview" in offer.url
        assert result.resource_url is None
    else:
        assert result.resource_url.startswith(target.base_url)

    torn = await signaler.teardown()
    exchanges = result.exchanges + torn
    for exchange in exchanges:
        assert set(exchange.to_event()) == HTTP_EVENT_FIELDS
        assert exchange.to_event()["event"] == events.HTTP
    assert exchanges[0].request_headers["Authorization"] == "[redacted]"
    assert leaks(TOKEN, exchanges) == []
    if protocol != "openai-beta":
        assert [e.status for e in torn] == [200]
        assert target.sessions == {}


# -- WHIP specifics ------------------------------------------------------------------------------


async def test_whip_delete_tears_the_resource_down(serve, clients) -> None:
    target = await serve(token=TOKEN)
    signaler = make_signaler("whip", target.url("/whip"), token=TOKEN)
    client = await connect(signaler, clients)
    await asyncio.wait_for(client.connected.wait(), WAIT)
    etag = client.result.exchanges[0].etag
    assert etag and etag.startswith('"')
    assert len(target.sessions) == 1

    [delete] = await signaler.teardown()
    assert (delete.method, delete.phase, delete.status) == ("DELETE", "teardown", 200)
    assert target.sessions == {}
    assert await signaler.teardown() == []  # once only
    async with aiohttp.ClientSession() as http, http.delete(
        client.result.resource_url, headers={"Authorization": f"Bearer {TOKEN}"}
    ) as again:
        assert again.status == 404


@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute"])
async def test_whip_location_resolves_to_an_absolute_resource_url(serve, absolute: bool) -> None:
    target = await serve(absolute_location=absolute)
    signaler = make_signaler("whip", target.url("/whip"))
    result = await signaler.exchange(await offer_sdp())
    [session_id] = target.sessions
    assert result.resource_url == target.url(f"/whip/{session_id}")
    location = result.exchanges[0].location
    assert location == (result.resource_url if absolute else f"/whip/{session_id}")
    await signaler.teardown()


@pytest.mark.parametrize("code", [307, 308])
async def test_whip_follows_307_and_308_with_method_and_body(serve, clients, code: int) -> None:
    target = await serve(token=TOKEN)
    signaler = make_signaler("whip", target.url(f"/redirect/{code}/whip"), token=TOKEN)
    client = await connect(signaler, clients)
    await asyncio.wait_for(client.connected.wait(), WAIT)
    hops = client.result.exchanges
    assert [(e.method, e.status) for e in hops] == [("POST", code), ("POST", 201)]
    assert hops[0].location == "/whip"
    assert hops[1].url == target.url("/whip")
    assert hops[1].request_content_type == "application/sdp"
    assert leaks(TOKEN, hops) == []
    await signaler.teardown()


async def test_redirect_to_another_origin_drops_the_token(serve) -> None:
    target = await serve(token=TOKEN)
    # another origin redirects to the target: the token given for it must not follow
    async def elsewhere(request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": target.url("/whip")})

    redirector = web.Application()
    redirector.router.add_post("/go", elsewhere)
    runner = web.AppRunner(redirector)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    signaler = make_signaler("whip", f"http://{host}:{port}/go", token=TOKEN)
    try:
        with pytest.raises(SignalingError) as caught:
            await signaler.exchange(await offer_sdp())
        first, second = caught.value.exchanges
        assert first.status == 307 and first.request_headers["Authorization"] == "[redacted]"
        assert second.status == 401 and "Authorization" not in second.request_headers
    finally:
        await signaler.close()
        await runner.cleanup()


async def stub(routes: dict[tuple[str, str], Any]) -> tuple[web.AppRunner, str, list[tuple[str, str, str | None]]]:
    """A tiny HTTP server with the given handlers; returns it, its base URL and what it was sent."""
    seen: list[tuple[str, str, str | None]] = []

    @web.middleware
    async def log(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append((request.method, request.path, request.headers.get("Authorization")))
        return await handler(request)

    app = web.Application(middlewares=[log])
    for (method, path), handler in routes.items():
        app.router.add_route(method, path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}", seen


async def test_teardown_does_not_send_the_token_where_the_redirect_dropped_it(serve) -> None:
    """POST to A, 307 to B (the token stays behind), B makes the resource: B's DELETE goes bare too."""
    async def created(request: web.Request) -> web.Response:
        return web.Response(status=201, text=(await request.text()).replace("a=setup:actpass", "a=setup:active"), content_type="application/sdp",
                            headers={"Location": "/res/abc"})

    async def deleted(request: web.Request) -> web.Response:
        return web.Response(status=200)

    b, b_url, b_seen = await stub({("POST", "/whip"): created, ("DELETE", "/res/abc"): deleted})

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=307, headers={"Location": b_url.replace("127.0.0.1", "localhost") + "/whip"})

    a, a_url, _ = await stub({("POST", "/go"): redirect})
    signaler = make_signaler("whip", a_url + "/go", token=TOKEN)
    try:
        await signaler.exchange(await offer_sdp())
        await signaler.teardown()
        assert b_seen == [("POST", "/whip", None), ("DELETE", "/res/abc", None)]
    finally:
        await signaler.close()
        await a.cleanup()
        await b.cleanup()


async def test_resource_created_with_a_body_that_is_not_sdp_is_still_deleted() -> None:
    async def created(request: web.Request) -> web.Response:
        return web.Response(status=201, text="<html>oops</html>", content_type="text/html",
                            headers={"Location": "/res/x"})

    async def deleted(request: web.Request) -> web.Response:
        return web.Response(status=200)

    runner, url, seen = await stub({("POST", "/whip"): created, ("DELETE", "/res/x"): deleted})
    signaler = make_signaler("whip", url + "/whip")
    try:
        with pytest.raises(SignalingError, match="expected an SDP answer"):
            await signaler.exchange(await offer_sdp())
        await signaler.teardown()
        assert [m for m, _, _ in seen] == ["POST", "DELETE"]
    finally:
        await signaler.close()
        await runner.cleanup()


async def test_secret_query_value_echoed_by_the_server_is_never_recorded() -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=401, text=f"unknown key {request.query.get('api_key')}")

    runner, url, _ = await stub({("POST", "/whip"): refuse})
    signaler = make_signaler("whip", url + "/whip?api_key=echoed-secret-0123")
    try:
        with pytest.raises(SignalingError) as caught:
            await signaler.exchange(await offer_sdp())
        assert "echoed-secret-0123" not in caught.value.message
        assert leaks("echoed-secret-0123", caught.value.exchanges) == []
    finally:
        await signaler.close()
        await runner.cleanup()


async def test_whip_does_not_turn_a_302_post_into_a_get(serve) -> None:
    target = await serve()
    signaler = make_signaler("whip", target.url("/redirect/302/whip"))
    with pytest.raises(SignalingError) as caught:
        await signaler.exchange(await offer_sdp())
    assert caught.value.kind == "http"
    assert "answered 302 Found" in caught.value.message
    assert target.sessions == {}
    await signaler.close()


async def test_whip_link_headers_become_ice_servers_with_credentials_redacted(serve) -> None:
    credential = "turn-secret-credential"
    target = await serve(ice_servers=["stun:stun.example.net", "turn:turn.example.net?transport=udp"],
                         ice_username="alice", ice_credential=credential)
    signaler = make_signaler("whip", target.url("/whip"))
    result = await signaler.exchange(await offer_sdp())
    stun, turn = result.ice_servers
    assert (stun.urls, stun.username, stun.credential) == ("stun:stun.example.net", None, None)
    assert (turn.urls, turn.username, turn.credential, turn.credentialType) == (
        "turn:turn.example.net?transport=udp", "alice", credential, "password")
    link = result.exchanges[0].response_headers["Link"]
    assert "turn:turn.example.net" in link and "alice" in link
    assert leaks(credential, result.exchanges) == []
    await signaler.teardown()


def test_link_headers_several_comma_joined_and_quoted() -> None:
    values = [
        '<stun:stun.example.net>; rel="ice-server", <turn:t.example.net:3478?transport=tcp>;'
        ' rel="ice-server"; username="u,1"; credential="p;w\\"d"; credential-type="password"',
        "<https://example.net/help>; rel=help",
        '<turns:t2.example.net>; REL="ice-server other"; username=bob; credential=x',
    ]
    links = parse_link_headers(values)
    assert [uri for uri, _ in links] == [
        "stun:stun.example.net", "turn:t.example.net:3478?transport=tcp",
        "https://example.net/help", "turns:t2.example.net"]
    assert links[1][1] == {"rel": "ice-server", "username": "u,1", "credential": 'p;w"d',
                           "credential-type": "password"}
    servers = ice_servers_from_links(values)
    assert [s.urls for s in servers] == [
        "stun:stun.example.net", "turn:t.example.net:3478?transport=tcp", "turns:t2.example.net"]
    assert (servers[2].username, servers[2].credential) == ("bob", "x")


# -- failures: each one a SignalingError of the right kind, with one line to show --------------


async def test_missing_token_is_a_401_http_error(serve) -> None:
    target = await serve(token=TOKEN)
    for protocol, path in ENDPOINTS.items():
        signaler = make_signaler(protocol, target.url(path))
        with pytest.raises(SignalingError) as caught:
            await signaler.exchange(await offer_sdp())
        error = caught.value
        assert error.kind == "http" and error.phase == "offer"
        assert error.message.startswith(f"POST {target.url(path)}")
        assert "answered 401 Unauthorized: missing Authorization header" in error.message
        assert "\n" not in error.message
        assert error.exchange.status == 401
        assert error.exchange.error == error.message
        # the challenge is recorded (rtcprobe.redact scrubs "Bearer realm=..." as if it were a token)
        assert 'error="invalid_token"' in error.exchange.response_headers["WWW-Authenticate"]
        await signaler.close()


async def test_wrong_token_is_401_and_never_recorded(serve) -> None:
    target = await serve(token=TOKEN)
    wrong = "sk-wrong-token-abcdef"
    signaler = make_signaler("openai", target.url("/v1/realtime/calls"), token=wrong)
    with pytest.raises(SignalingError) as caught:
        await signaler.exchange(await offer_sdp())
    assert "401" in caught.value.message and "the token is not valid" in caught.value.message
    assert leaks(wrong, caught.value.exchanges) == []
    await signaler.close()


async def test_credentials_in_the_url_become_basic_auth_and_are_never_recorded(serve) -> None:
    """`https://user:pw@host/...` is what curl users paste: the password is sent as Basic auth
    (here refused, the target wants a bearer token) and neither it nor the userinfo is recorded."""
    target = await serve(token=TOKEN)
    password = "pw-in-the-url-0123"
    url = target.url("/whip").replace("://", f"://probe:{password}@")
    signaler = make_signaler("whip", url)
    with pytest.raises(SignalingError) as caught:
        await signaler.exchange(await offer_sdp())
    assert caught.value.exchange.status == 401 and "probe@" not in caught.value.message
    assert leaks(password, caught.value.exchanges) == [] and password not in caught.value.message
    await signaler.close()
    # with a token too, the token is what is sent, and the session is made
    signaler = make_signaler("whip", url, token=TOKEN)
    result = await signaler.exchange(await offer_sdp())
    assert result.exchanges[-1].status == 201 and leaks(password, signaler.exchanges) == []
    await signaler.teardown()


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
async def test_status_fault_is_an_http_error(serve, protocol: str) -> None:
    target = await serve(http_status=503)
    signaler = make_signaler(protocol, target.url(ENDPOINTS[protocol]))
    with pytest.raises(SignalingError) as caught:
        await signaler.exchange(await offer_sdp())
    assert caught.value.kind == "http"
    assert "answered 503 Service Unavailable: fault injected: status 503" in caught.value.message
    assert caught.value.exchange.body_excerpt.startswith('{"error"')
    await signaler.close()


@pytest.mark.parametrize("protocol", list(PROTOCOLS))
async def test_garbage_body_is_an_http_error(serve, protocol: str) -> None:
    target = await serve(garbage_body=True)
    signaler = make_signaler(protocol, target.url(ENDPOINTS[protocol]))
    with pytest.raises(SignalingError) as caught:
        await signaler.exchange(await offer_sdp())
    error = caught.value
    assert error.kind == "http"
    assert "answered 201 Created: expected an SDP answer, got text/html" in error.message
    assert error.exchange.body_excerpt.startswith("<!DOCTYPE html>")
    assert target.sessions == {}
    await signaler.close()


async def test_slow_answer_is_a_timeout(serve) -> None:
    target = await serve(http_delay_ms=2000)
    signaler = make_signaler("whip", target.url("/whip"), timeout=0.2)
    with pytest.raises(SignalingError) as caught:
        await signaler.exchange(await offer_sdp())
    error = caught.value
    assert error.kind == "timeout"
    assert error.message == f"POST {target.url('/whip')}: no answer within 0.2 s"
    assert error.exchange.status is None and error.exchange.t_response is None
    await signaler.close()


async def test_connection_refused_is_an_http_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/whip"
    signaler = make_signaler("whip", url)
    with pytest.raises(SignalingError) as caught:
        await signaler.exchange(await offer_sdp())
    assert caught.value.kind == "http"
    assert caught.value.message == (f"POST {url} failed: cannot connect "
                                    f"(connection refused: nothing listens on 127.0.0.1:{port})")
    assert caught.value.exchange.status is None
    await signaler.close()


async def test_bad_offer_is_rejected_with_the_servers_message(serve) -> None:
    target = await serve()
    signaler = make_signaler("whip", target.url("/whip"))
    with pytest.raises(SignalingError) as caught:
        await signaler.exchange("v=0\r\nthis is not sdp\r\n")
    assert "answered 400 Bad Request" in caught.value.message
    await signaler.close()


# -- the adapter registry and what it records ---------------------------------------------------


@pytest.mark.parametrize("url,protocol", [
    ("http://127.0.0.1:8080/whip", "whip"),
    ("https://ingest.example.net/whip/endpoint/stream1", "whip"),
    ("https://api.openai.com/v1/realtime/calls", "openai"),
    ("https://api.openai.com/v1/realtime/calls/", "openai"),
    ("https://api.openai.com", "openai"),
    ("https://api.openai.com/v1/realtime?model=gpt-4o-realtime-preview", "openai-beta"),
    ("http://localhost:8080/offer", "sdp-post"),
    ("http://localhost:8080/whipped", "sdp-post"),
])
def test_guess_protocol(url: str, protocol: str) -> None:
    assert guess_protocol(url) == protocol


def test_make_signaler_builds_urls_and_drops_other_protocols_options() -> None:
    options = {"model": "gpt-x", "session": {"voice": "marin"}, "offer_format": "json"}
    ga = make_signaler("openai", "https://api.openai.com", token=TOKEN, **options)
    assert ga.url == "https://api.openai.com/v1/realtime/calls"
    assert make_signaler("openai", "https://api.openai.com/v1/").url == "https://api.openai.com/v1/realtime/calls"
    assert ga.session_config == {"voice": "marin", "type": "realtime", "model": "gpt-x"}
    beta = make_signaler(None, "https://api.openai.com/v1/realtime?model=m1", token=TOKEN)
    assert beta.protocol == "openai-beta" and beta.url.endswith("/v1/realtime?model=m1")
    beta = make_signaler("openai-beta", "https://api.openai.com", **options)
    assert beta.url == "https://api.openai.com/v1/realtime?model=gpt-x"
    whip = make_signaler("whip", "http://h/whip", **options)
    assert whip.protocol == "whip" and not hasattr(whip, "session_config")
    assert make_signaler("sdp-post", "http://h/offer", **options).offer_format == "json"
    with pytest.raises(ValueError, match="unknown signaling protocol 'sip'"):
        make_signaler("sip", "http://h/")
    with pytest.raises(TypeError, match="unknown option"):
        make_signaler("whip", "http://h/whip", colour="red")
    with pytest.raises(ValueError, match="offer format"):
        make_signaler("sdp-post", "http://h/offer", offer_format="xml")


async def test_exchange_times_come_from_the_given_clock(serve) -> None:
    target = await serve()
    ticks = iter(range(100, 200))
    signaler = make_signaler("whip", target.url("/whip"), clock=lambda: float(next(ticks)))
    result = await signaler.exchange(await offer_sdp())
    [exchange] = result.exchanges
    assert (exchange.t_request, exchange.t_response) == (100.0, 101.0)
    assert exchange.to_event()["t"] == 101.0
    await signaler.teardown()


async def test_openai_session_config_reaches_the_service(serve, clients) -> None:
    target = await serve(token=TOKEN)
    signaler = make_signaler("openai", target.url("/v1/realtime/calls"), token=TOKEN,
                             session={"instructions": "be brief", "model": "gpt-realtime-mini"})
    client = await connect(signaler, clients, audio=None)
    created = await client.next_event("session.created")
    assert created["session"]["instructions"] == "be brief"
    assert created["session"]["model"] == "gpt-realtime-mini"
    assert created["session"]["type"] == "realtime"
    [hangup] = await signaler.teardown()
    assert hangup.url.endswith("/hangup") and hangup.status == 200


@pytest.mark.parametrize(("error", "words"), [
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "name not found: DNS has no address for x.invalid"),
    (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"),
     "cannot resolve x.invalid: no DNS resolver reachable (or it did not answer)"),
    (socket.gaierror(socket.EAI_FAIL, "Non-recoverable failure in name resolution"),
     "cannot resolve x.invalid (non-recoverable failure in name resolution)"),
    (ConnectionRefusedError(111, "Connect call failed"), "cannot connect (connection refused: nothing listens on x.invalid:8443)"),
])
def test_connection_failures_are_named_once(error: OSError, words: str) -> None:
    """The one mapping of OS/DNS errors to causes (the TLS ones run for real in test_diagnoses)."""
    from rtcprobe.signaling.failures import client_error_reason

    assert client_error_reason(error, "https://x.invalid:8443/whip") == words


async def test_answer_past_the_size_limit_is_an_http_error_with_a_short_excerpt() -> None:
    """The body is read up to rtcprobe.limits.MAX_RESPONSE_BYTES and no further."""
    from rtcprobe.limits import MAX_RESPONSE_BYTES

    async def huge(request: web.Request) -> web.Response:
        return web.Response(status=400, text="no " + "x" * (MAX_RESPONSE_BYTES + 10))

    runner, url, _ = await stub({("POST", "/offer"): huge})
    signaler = make_signaler("sdp-post", url + "/offer")
    try:
        with pytest.raises(SignalingError) as caught:
            await signaler.exchange(await offer_sdp())
        assert caught.value.kind == "http" and caught.value.exchange is not None
        assert f"larger than {MAX_RESPONSE_BYTES:,} bytes" in caught.value.message
        assert caught.value.exchange.status == 400
        assert len(caught.value.exchange.body_excerpt or "") <= 501
    finally:
        await signaler.close()
        await runner.cleanup()


async def test_json_answer_nested_past_the_parser_is_an_http_error() -> None:
    async def nested(request: web.Request) -> web.Response:
        return web.Response(status=200, text="{\"sdp\": " + "[" * 50_000 + "]" * 50_000 + "}",
                            content_type="application/json")

    runner, url, _ = await stub({("POST", "/offer"): nested})
    signaler = make_signaler("sdp-post", url + "/offer", offer_format="json")
    try:
        with pytest.raises(SignalingError) as caught:
            await signaler.exchange(await offer_sdp())
        assert "answer is not valid JSON" in caught.value.message
    finally:
        await signaler.close()
        await runner.cleanup()

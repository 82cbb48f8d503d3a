"""The checker's two hands: raw HTTP exchanges (no redirect followed behind its back, every
status seen) and one real WebRTC session whose packets are counted on the wire (probe taps)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from multidict import CIMultiDict

from .. import limits
from ..probe.loopback import is_loopback, restrict_to_loopback
from ..probe.taps import RECEIVED, attach_peer_connection
from ..redact import register_secret
from ..signaling.facts import resolve_location

SDP_TYPE = "application/sdp"
TRICKLE_TYPE = "application/trickle-ice-sdpfrag"
CONNECT_SECONDS = limits.CHECK_CONNECT_SECONDS
WIRE_GRACE_SECONDS = limits.CHECK_WIRE_GRACE_SECONDS
WIRE_WATCH_SECONDS = limits.CHECK_WIRE_WATCH_SECONDS
#: Sent as a browser page would, so that the server's CORS answer can be checked.
ORIGIN = "http://rtcprobe-check.invalid"


@dataclass
class Reply:
    method: str
    url: str
    status: int
    headers: CIMultiDict[str]
    text: str

    def values(self, name: str) -> list[str]:
        return self.headers.getall(name, [])

    @property
    def shown(self) -> str:
        return f"{self.method} {urlsplit(self.url).path} → {self.status}"


@dataclass
class WireCount:
    """Received RTP/RTCP packets (after SRTP), with their arrival times on the checker's clock."""

    times: list[tuple[float, str]] = field(default_factory=list)

    def __call__(self, direction: str, kind: str, data: bytes, t: float) -> None:
        if direction == RECEIVED:
            self.times.append((time.monotonic(), kind))

    def since(self, t: float) -> dict[str, int]:
        counts = {"rtp": 0, "rtcp": 0}
        for at, kind in self.times:
            if at >= t:
                counts[kind] += 1
        return counts


class Checker:
    """State shared by the checks of one run: the endpoint, the live session and what it answered."""

    def __init__(self, url: str, protocol: str = "whip", token: str | None = None,
                 timeout: float = 10.0) -> None:
        register_secret(token)
        self.url = url
        self.protocol = protocol
        self.token = token
        self.timeout = timeout
        self.http: aiohttp.ClientSession | None = None
        self.pc: RTCPeerConnection | None = None
        self.post: Reply | None = None
        self.post_error: str | None = None
        self.redirects: list[Reply] = []
        self.resource: str | None = None
        self.resource_ok = True  # False once location.resolves found nothing at the Location
        self.etag: str | None = None
        self.wire = WireCount()
        self.restart_reply: Reply | None = None
        self.deleted: Reply | None = None
        self.offer_sdp = ""
        self.trickle_reply: Reply | None = None
        self.first_trickle: Reply | None = None  # kept across sessions (patch.unsupported)
        self.before_delete: dict[str, int] = {}
        if is_loopback(urlsplit(url).hostname):
            restrict_to_loopback()

    async def __aenter__(self) -> Checker:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.resource and self.deleted is None:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                await self.request("DELETE", self.resource)
        if self.pc is not None:
            await self.pc.close()
        if self.http is not None:
            await self.http.close()

    def headers(self, content_type: str | None = None, **extra: str) -> dict[str, str]:
        out = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if content_type:
            out["Content-Type"] = content_type
        out.update({k.replace("_", "-"): v for k, v in extra.items()})
        return out

    async def request(self, method: str, url: str | None = None, body: str | bytes | None = None,
                      headers: dict[str, str] | None = None) -> Reply:
        """One exchange, redirects not followed."""
        assert self.http is not None
        target = url or self.url
        async with self.http.request(method, target, data=body, headers=headers or self.headers(),
                                     allow_redirects=False) as resp:
            text = await resp.text(errors="replace")
            return Reply(method, target, resp.status, CIMultiDict(resp.headers), text)

    async def post_offer(self, sdp: str, content_type: str = SDP_TYPE, record: bool = True) -> Reply:
        """POST an offer, following 307/308 as RFC 9725 §4.5 lets a client (each hop recorded
        when `record`), and a 503 once after its Retry-After (bounded)."""
        url, retried = self.url, False
        for _hop in range(5):
            reply = await self.request("POST", url, sdp, self.headers(content_type, Origin=ORIGIN))
            if reply.status in (301, 302, 303, 307, 308):
                if record:
                    self.redirects.append(reply)
                location = reply.headers.get("Location")
                if reply.status not in (307, 308) or not location:
                    return reply
                url = resolve_location(url, location)
                continue
            if reply.status == 503 and not retried:
                if record:
                    self.redirects.append(reply)
                delay = _retry_after(reply.headers.get("Retry-After"))
                if delay is None:
                    return reply
                retried = True
                await asyncio.sleep(delay)
                continue
            return reply
        return reply

    def offer_pc(self) -> RTCPeerConnection:
        pc = RTCPeerConnection()
        if self.protocol == "whep":
            pc.addTransceiver("audio", direction="recvonly")
            pc.addTransceiver("video", direction="recvonly")
        else:
            pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        return pc

    async def open_session(self) -> None:
        """The session most checks need: offer, POST, answer, connected. Failures are recorded in
        `post_error` for the checks to report, not raised. A second call replaces the first."""
        if self.pc is not None:
            await self.pc.close()
        self.post = self.post_error = self.resource = self.etag = self.deleted = None
        # resource_ok stays: a server whose Location named nothing once does so for every session
        self.wire, self.offer_sdp, self.trickle_reply = WireCount(), "", None
        self.pc = pc = self.offer_pc()
        await pc.setLocalDescription(await pc.createOffer())
        self.offer_sdp = pc.localDescription.sdp
        self.post = reply = await self.post_offer(self.offer_sdp)
        if reply.status // 100 != 2:
            self.post_error = f"{reply.shown}: {reply.text.strip()[:120]}"
            return
        location = reply.headers.get("Location")
        if location:
            self.resource = resolve_location(reply.url, location)
        self.etag = reply.headers.get("ETag")
        if not reply.text.lstrip().startswith("v=0"):
            self.post_error = f"{reply.shown}: the body is not an SDP answer"
            return
        connected = asyncio.Event()

        @pc.on("connectionstatechange")
        def changed() -> None:
            if pc.connectionState in ("connected", "failed", "closed"):
                connected.set()

        try:
            await pc.setRemoteDescription(RTCSessionDescription(reply.text, "answer"))
        except ValueError as exc:
            self.post_error = f"{reply.shown}: the answer does not apply: {exc}"
            return
        attach_peer_connection(pc, time.monotonic, self.wire)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(connected.wait(), CONNECT_SECONDS)
        if pc.connectionState != "connected":
            self.post_error = f"the session did not connect within {CONNECT_SECONDS:g} s ({pc.connectionState})"

    async def watch(self, seconds: float) -> dict[str, int]:
        """Received packets over the next `seconds`."""
        start = time.monotonic()
        await asyncio.sleep(seconds)
        return self.wire.since(start)


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds (RFC 9110 §10.2.3), capped for the check; dates not honoured."""
    if value is None or not value.strip().isdigit():
        return None
    return min(float(value.strip()), limits.CHECK_MAX_RETRY_AFTER)

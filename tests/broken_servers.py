"""Deliberately broken WHIP servers for `rtcprobe check`: one conformant aiortc-backed WHIP server
whose `fault` breaks exactly one requirement, as servers in the field do (issue 15's list).

The endpoint lives at /app/whip so that relative Locations resolve differently against the request
URL (RFC 3986) and against the origin root. Trickle is supported, ICE restarts are not (422), as
RFC 9725 §4.3.1 allows."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription

SDP, TRICKLE = "application/sdp", "application/trickle-ice-sdpfrag"
ENDPOINT = "/app/whip"

#: fault -> the one requirement `rtcprobe check` must fail
FAULTS = {
    "relative_location": "location.resolves",  # `whip/<id>` meant as `/whip/<id>` (origin-root resolution)
    "link_grammar": "link.ice_servers",  # `credential:` for `=`, a trailing `;`
    "etag_rewritten": "patch.trickle",  # a proxy weakened the ETag: If-Match never matches
    "cors_expose": "cors.expose",  # ETag, Link and Accept-Patch not in Access-Control-Expose-Headers
    "sdpfrag_415": "patch.sdpfrag",  # 415 on application/trickle-ice-sdpfrag
    "restart_405": "patch.unsupported",  # 405 (an old draft) where RFC 9725 says 422
    "delete_keeps_media": "delete.media_stops",  # DELETE says 200, the session goes on
    "redirect_302": "redirect.307",  # a load balancer redirecting the POST with 302
}
#: Conformant variants whose optional behaviour the checker must see and pass.
CONFORMANT = ("redirect_307", "busy_once", "absolute_location", "relative_path_location")


@dataclass
class Session:
    pc: RTCPeerConnection
    etag: str


@dataclass
class BrokenWhip:
    fault: str | None = None
    sessions: dict[str, Session] = field(default_factory=dict)
    kept: list[RTCPeerConnection] = field(default_factory=list)
    busy: bool = True  # busy_once: the first POST is answered 503

    def app(self) -> web.Application:
        app = web.Application()
        resource = "/whip/{id}" if self.fault == "relative_location" else ENDPOINT + "/{id}"
        app.add_routes([
            web.post(ENDPOINT, self.post),
            web.post(ENDPOINT + "-node2", self.post),
            web.options(ENDPOINT, self.options),
            web.get(ENDPOINT, self.get),  # aiohttp answers HEAD as GET, without the body
            web.get(resource, self.get),
            web.patch(resource, self.patch),
            web.delete(resource, self.delete),
        ])
        app.on_shutdown.append(self.close)
        return app

    def _cors(self) -> dict[str, str]:
        exposed = "Location" if self.fault == "cors_expose" else "Location, ETag, Link, Accept-Patch"
        return {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": exposed}

    async def options(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers={
            "Accept-Post": SDP, "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Methods": "POST, PATCH, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match"})

    async def post(self, request: web.Request) -> web.Response:
        if self.fault in ("redirect_302", "redirect_307") and request.path == ENDPOINT:
            return web.Response(status=int(self.fault[-3:]), headers={"Location": ENDPOINT + "-node2"})
        if self.fault == "busy_once" and self.busy:
            self.busy = False
            return web.Response(status=503, headers={"Retry-After": "1"})
        if request.content_type != SDP:
            return web.Response(status=415, text=f"expected {SDP}")
        offer = await request.text()
        if "\nm=" not in offer:
            return web.Response(status=400, text="the offer has no media section")
        if "a=recvonly" in offer and "a=sendonly" not in offer:
            return web.Response(status=422, text="a WHIP offer sends media")
        pc = RTCPeerConnection()
        try:
            await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
        except ValueError as exc:
            await pc.close()
            return web.Response(status=400, text=f"bad offer: {exc}")
        sid, etag = secrets.token_hex(8), f'"{secrets.token_hex(6)}"'
        answer = pc.localDescription.sdp
        self.sessions[sid] = Session(pc, etag)
        location = {"relative_location": f"whip/{sid}",  # meant as /whip/<id>: wrong
                    "relative_path_location": f"whip/{sid}",  # /app/whip/<id> per RFC 3986: right
                    "absolute_location": f"{request.url.origin()}{ENDPOINT}/{sid}",
                    }.get(self.fault or "", f"{ENDPOINT}/{sid}")
        sent_etag = f"W/{etag}" if self.fault == "etag_rewritten" else etag
        response = web.Response(status=201, text=answer, content_type=SDP, headers={
            "Location": location, "ETag": sent_etag, "Accept-Patch": TRICKLE, **self._cors()})
        if self.fault == "link_grammar":
            links = ['<stun:127.0.0.1:3478>; rel="ice-server";',
                     '<turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="u"; credential:"p"']
        else:
            links = ['<stun:127.0.0.1:3478>; rel="ice-server"',
                     '<turn:127.0.0.1:3478?transport=udp>; rel="ice-server"; username="u"; credential="p"; '
                     'credential-type="password"']
        for link in links:
            response.headers.add("Link", link)
        return response

    async def get(self, request: web.Request) -> web.Response:
        """No representation (RFC 9725 §4.1): 204; 404 for a session that does not exist."""
        if "id" in request.match_info and request.match_info["id"] not in self.sessions:
            return web.Response(status=404)
        return web.Response(status=204)

    async def patch(self, request: web.Request) -> web.Response:
        session = self.sessions.get(request.match_info["id"])
        if session is None:
            return web.Response(status=404)
        if request.content_type != TRICKLE or self.fault == "sdpfrag_415":
            return web.Response(status=415, text=f"expected {TRICKLE}")
        if_match = request.headers.get("If-Match")
        if if_match is None:
            return web.Response(status=428)
        if if_match == "*":  # an ICE restart: this server does not do them
            return web.Response(status=405 if self.fault == "restart_405" else 422)
        if if_match != session.etag:
            return web.Response(status=412)
        return web.Response(status=204)

    async def delete(self, request: web.Request) -> web.Response:
        session = self.sessions.pop(request.match_info["id"], None)
        if session is None:
            return web.Response(status=404)
        if self.fault == "delete_keeps_media":
            self.kept.append(session.pc)
        else:
            await session.pc.close()
        return web.Response(status=200)

    async def close(self, app: web.Application | None = None) -> None:
        for pc in [s.pc for s in self.sessions.values()] + self.kept:
            await pc.close()
        self.sessions.clear()
        self.kept.clear()


async def start(fault: str | None) -> tuple[web.AppRunner, str]:
    """Run a broken server on 127.0.0.1 (a free port); returns the runner and the endpoint URL."""
    runner = web.AppRunner(BrokenWhip(fault).app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}{ENDPOINT}"

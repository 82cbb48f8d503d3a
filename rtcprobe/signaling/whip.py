"""WHIP (RFC 9725): POST the offer as application/sdp, get 201 + Location (+ ETag, + ICE servers in
Link headers), DELETE the resource to end the session."""

from __future__ import annotations

from collections.abc import Iterable

from aiortc import RTCIceServer

from ..redact import register_secret
from .base import HttpSignaler
from .exchange import SDP_TYPE, Response, SignalingResult
from .facts import parse_link_headers  # the one Link parser (rtcprobe check uses it too)


def ice_servers_from_links(values: Iterable[str]) -> list[RTCIceServer]:
    """The `rel="ice-server"` links of a WHIP response (RFC 9725 §4.6) as RTCIceServer objects.
    Their credentials are registered as secrets so captures never show them."""
    servers = []
    for uri, params in parse_link_headers(values):
        if "ice-server" not in params.get("rel", "").lower().split():
            continue
        register_secret(params.get("credential"))
        servers.append(
            RTCIceServer(
                urls=uri,
                username=params.get("username"),
                credential=params.get("credential"),
                credentialType=params.get("credential-type", "password"),
            )
        )
    return servers


class WhipSignaler(HttpSignaler):
    """A WHIP client. aiortc does not trickle, so the offer already holds every candidate and the
    ICE servers from Link headers are reported rather than used (they arrive after gathering)."""

    protocol = "whip"

    async def exchange(self, offer_sdp: str) -> SignalingResult:
        body = offer_sdp.encode()
        response = await self.post_offer(lambda: body, SDP_TYPE, {"Accept": SDP_TYPE})
        self.refuse(response)
        answer = self.expect_answer(response)
        ice_servers = ice_servers_from_links(response.header_values("Link"))
        if ice_servers:
            response.exchange.rescrub()
        return self.result(answer, ice_servers)

    def refuse(self, response: Response) -> None:
        """Raise for a response this protocol defines and rtcprobe does not follow (WHEP's 406)."""

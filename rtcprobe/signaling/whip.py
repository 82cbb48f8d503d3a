"""WHIP (RFC 9725): POST the offer as application/sdp, get 201 + Location (+ ETag, + ICE servers in
Link headers), DELETE the resource to end the session."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aiortc import RTCIceServer

from ..redact import register_secret
from .base import HttpSignaler
from .exchange import SDP_TYPE, SignalingResult

# One link-value (RFC 8288 §3): <uri> followed by ;-separated params, quoted strings may hold , and ;
_LINK = re.compile(r'<([^>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^;,\s]*))?)*)')
_PARAM = re.compile(r';\s*([^;,=\s]+)(?:\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*))?')


def parse_link_headers(values: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """Every link in one or more Link header values (each possibly comma-joined), as (uri, params).
    Parameter names are lower-cased; quoted values are unquoted."""
    links: list[tuple[str, dict[str, str]]] = []
    for value in values:
        for match in _LINK.finditer(value):
            params: dict[str, str] = {}
            for name, raw in _PARAM.findall(match.group(2)):
                if raw.startswith('"'):
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                params.setdefault(name.lower(), raw)
            links.append((match.group(1).strip(), params))
    return links


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
        answer = self.expect_answer(response)
        ice_servers = ice_servers_from_links(response.header_values("Link"))
        if ice_servers:
            response.exchange.rescrub()
        return self.result(answer, ice_servers)

"""A generic offer/answer endpoint: POST the offer as application/sdp, or as JSON
`{"type": "offer", "sdp": ...}` (aiortc's examples, many SFU demos); the answer comes back in
either form, told apart by Content-Type and, failing that, by the body itself."""

from __future__ import annotations

import json
from typing import Any

from .base import HttpSignaler
from .exchange import SDP_TYPE, Response, SignalingResult, excerpt, is_sdp

JSON_TYPE = "application/json"
OFFER_FORMATS = ("sdp", "json")


class SdpPostSignaler(HttpSignaler):
    """Posts the offer and reads the answer; DELETEs the Location on teardown when one was given."""

    protocol = "sdp-post"
    protocol_options = frozenset({"offer_format"})

    def __init__(self, url: str, token: str | None = None, *, offer_format: str = "sdp",
                 **options: Any) -> None:
        if offer_format not in OFFER_FORMATS:
            raise ValueError(
                f"offer format must be one of {', '.join(OFFER_FORMATS)}, got {offer_format!r}"
            )
        super().__init__(url, token, **options)
        self.offer_format = offer_format

    async def exchange(self, offer_sdp: str) -> SignalingResult:
        if self.offer_format == "json":
            payload = json.dumps({"type": "offer", "sdp": offer_sdp}).encode()
            ctype = JSON_TYPE
        else:
            payload = offer_sdp.encode()
            ctype = SDP_TYPE
        response = await self.post_offer(lambda: payload, ctype, {"Accept": f"{ctype}, */*;q=0.5"})
        return self.result(self._answer(response))

    def _answer(self, response: Response) -> str:
        ctype = (response.exchange.response_content_type or "").split(";")[0].strip().lower()
        looks_json = ctype.endswith("json") or response.text.lstrip().startswith("{")
        if response.status >= 300 or not looks_json:
            return self.expect_answer(response)
        try:
            data = json.loads(response.text)
        except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than json can go
            raise self.fail(response, f"answer is not valid JSON ({str(exc) or 'nested too deep'})") from None
        sdp = data.get("sdp") if isinstance(data, dict) else None
        if not isinstance(sdp, str) or not is_sdp(sdp):
            raise self.fail(response, f"expected JSON with an \"sdp\" answer, got {excerpt(response.text)}")
        if data.get("type", "answer") != "answer":
            raise self.fail(response, f"expected type \"answer\", got {excerpt(repr(data.get('type')))}")
        response.exchange.body_excerpt = None  # the body was the answer, not a message
        return sdp

"""WHEP (draft-ietf-wish-whep): the playback side of WHIP. The client POSTs a recvonly offer as
application/sdp, gets 201 + Location (+ ETag, + ICE servers in Link headers) and a sendonly
answer, PATCHes trickle and restarts as WHIP does (RFC 9725 §4.3) and DELETEs the resource.

Early drafts let a server answer 406 with a counter-offer, or send the offer itself (server-offer
mode); the current draft has neither. rtcprobe offers and does not answer counter-offers: a 406
ends the session with that said, the counter-offer kept in the capture."""

from __future__ import annotations

from .exchange import Response, is_sdp
from .whip import WhipSignaler


class WhepSignaler(WhipSignaler):
    """A WHEP client; the probe makes its offer recvonly (rtcprobe.probe.playback)."""

    protocol = "whep"

    def refuse(self, response: Response) -> None:
        if response.status == 406 and is_sdp(response.text):
            raise self.fail(response, "the server sent a counter-offer (406, early WHEP drafts); "
                                      "rtcprobe sends its own offer and does not answer counter-offers")

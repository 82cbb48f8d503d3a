"""Connect-time breakdown and response latencies of a capture: where the setup time went."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..capture import Capture
from ..capture import events as ev


@dataclass(frozen=True)
class Phase:
    """One step of connection set-up: [start, end] on the capture clock; None when it never ended."""

    name: str
    start: float | None
    end: float | None

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None:
            return None
        return max(self.end - self.start, 0.0)


@dataclass
class ConnectBreakdown:
    """HTTP, ICE, DTLS, first media, data channel: the waterfall of a session's set-up."""

    phases: list[Phase]
    #: Capture start -> media flowing (first RTP received, or the data channel open, whichever came
    #: last). None when no media ever arrived (a 401, an ICE failure, an import without media
    #: events) or set-up failed: there is no "to media" time then, and none is made up.
    total: float | None
    failed_phase: str | None = None
    responses: list[ResponseTiming] = field(default_factory=list)
    #: Why there is no total, for views to print in its place ("" when there is one).
    total_note: str = ""

    @property
    def response_latencies(self) -> list[float]:
        return [r.latency for r in self.responses]

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)

    def as_dict(self) -> dict[str, float | None]:
        return {p.name: p.duration for p in self.phases} | {"total": self.total}


def _first_t(events: list[dict], **match: object) -> float | None:
    return next((e["t"] for e in events if all(e.get(k) == v for k, v in match.items())), None)


def connect_breakdown(capture: Capture) -> ConnectBreakdown:
    """Derive each phase from the events; phases that did not happen are absent or open-ended."""
    events = capture.events
    offer_http = next((e for e in capture.http if e.get("phase", "offer") == "offer"), None)
    http = Phase("http", offer_http.get("t_request"), offer_http.get("t_response")) if offer_http else None
    ice_start = _first_t(events, event=ev.STATE, machine="ice_connection", state="checking")
    ice_end = next((e["t"] for e in events if e.get("event") == ev.STATE and e.get("machine") == "ice_connection"
                    and e.get("state") in ("connected", "completed")), None)
    dtls_start = _first_t(events, event=ev.STATE, machine="dtls", state="connecting") or ice_end
    dtls_end = _first_t(events, event=ev.STATE, machine="dtls", state="connected") or _first_t(
        events, event=ev.STATE, machine="connection", state="connected")
    if ice_end is None and dtls_end is not None:  # the ICE agent said "failed", yet a pair was selected and
        ice_end = _first_t(events, event=ev.SELECTED_PAIR)  # DTLS connected on it: ICE ended at the selection
    media_end = _first_t(events, event=ev.RTP_FIRST, direction="received")
    channel_end = _first_t(events, event=ev.DATACHANNEL, action="open")
    phases = [p for p in (
        http,
        Phase("ice", ice_start, ice_end) if ice_start is not None else None,
        Phase("dtls", dtls_start, dtls_end) if dtls_start is not None else None,
        Phase("first media", dtls_end, media_end)
        if dtls_end is not None and (media_end is not None or capture.reason == "media") else None,
        Phase("data channel", dtls_end, channel_end) if dtls_end is not None and channel_end is not None else None,
    ) if p is not None]
    failed = next((p.name for p in phases if p.end is None), None)
    if failed is None and not capture.ok and capture.end:
        failed = {"http": "http", "ice": "ice", "dtls": "dtls", "media": "first media"}.get(capture.reason)
        ended = {p.name for p in phases if p.end is not None}
        if failed in ended and capture.reason in ("ice", "media"):  # set-up had finished: the session failed
            # later (the peer went silent, the connection was lost), not in set-up
            failed = None
    media_ends = [p.end for p in phases if p.name in ("first media", "data channel") and p.end is not None]
    total = max(media_ends) if media_ends and failed is None else None
    return ConnectBreakdown(phases, total, failed, response_timings(capture),
                            "" if total is not None else _no_total_note(capture))


def _no_total_note(capture: Capture) -> str:
    """"no media", unless the stats show media the record has no first-packet time for (a dump)."""
    received = any(r.get("type") == "inbound-rtp" and (r.get("packetsReceived") or 0) > 0
                   or r.get("type") == "data-channel" and r.get("state") == "open"
                   for r in capture.last_stats())
    return "not recorded (media arrived; no first-packet time in this record)" if received else "no media"


#: How a realtime-API event answers a client event: `session.update` -> `session.updated`,
#: `conversation.item.create` -> `conversation.item.added` (GA) or `.created` (beta), ...
_ANSWER_VERBS = {"create": ("created", "added"), "update": ("updated",), "commit": ("committed",),
                 "clear": ("cleared",), "delete": ("deleted",), "truncate": ("truncated",)}


@dataclass(frozen=True)
class ResponseTiming:
    """One request on a data channel and the message that answered it."""

    request: str  # the JSON `type`, or "message"
    response: str
    sent_at: float
    latency: float


def _json_type(event: dict) -> str | None:
    return event.get("json_type")


def _answers(sent: dict, received: dict) -> bool:
    if not received.get("truncated") and received.get("data") == sent.get("data"):
        return True  # an echo
    request, response = _json_type(sent), _json_type(received)
    if not request or not response or "." not in request or "." not in response:
        return False
    if response == "error":
        return True
    (req_ns, verb), (resp_ns, resp_verb) = request.rsplit(".", 1), response.rsplit(".", 1)
    return req_ns == resp_ns and resp_verb in _ANSWER_VERBS.get(verb, (verb + "d", verb + "ed"))


def response_timings(capture: Capture) -> list[ResponseTiming]:
    """Each message we sent on a data channel, timed to the first later message that answers it.

    Answers are echoes (the reference target) or realtime-API events of the same namespace in the
    past tense, so unsolicited events (`session.created`, speech detection) are never counted.
    """
    messages = capture.of(ev.DC_MESSAGE)
    used: set[int] = set()
    out = []
    for i, sent in enumerate(messages):
        if sent.get("direction") != "sent":
            continue
        for j in range(i + 1, len(messages)):
            received = messages[j]
            if j not in used and received.get("direction") == "received" and _answers(sent, received):
                used.add(j)
                out.append(ResponseTiming(_json_type(sent) or "message", _json_type(received) or "message",
                                          sent["t"], received["t"] - sent["t"]))
                break
    return out


def response_latencies(capture: Capture) -> list[float]:
    """Seconds from each data-channel request to its answer (see `response_timings`)."""
    return [r.latency for r in response_timings(capture)]

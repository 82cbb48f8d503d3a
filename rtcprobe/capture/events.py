"""The capture file's event vocabulary: one place that names every event and its fields.

A capture is JSON Lines. Line 1 is the header; every later line is one event.
Every event has ``event`` (one of the names below) and ``t`` (float seconds since the
capture started, on a monotonic clock). Writers go through ``CaptureWriter`` so that
redaction (``rtcprobe.redact``) applies to every line.

Header (line 1)::

    {"event": "header", "t": 0.0, "schema": "rtcprobe-capture/1",
     "rtcprobe": "0.1.0", "aiortc": "1.16.0", "target": "<url, credentials removed>",
     "protocol": "whip|openai|openai-beta|sdp-post|import-...", "options": {...},
     "started_at": "<ISO 8601 UTC wall clock>", "started_at_epoch": 1732512000.123}

Events (fields beyond ``event`` and ``t``):

- ``sdp``            role: "local"|"remote", type: "offer"|"answer", sdp: full text
- ``candidate``      side: "local"|"remote", candidate: "candidate:..." (no "a="),
                     mid: str|None, mline_index: int|None   (end-of-candidates: candidate = ""),
                     ignored: str (remote only, when present: why rtcprobe did not use it, e.g. the
                     loopback policy of rtcprobe.probe.loopback)
- ``state``          machine: "signaling"|"ice_gathering"|"ice_connection"|"dtls"|"connection"|"sctp",
                     state: str
- ``http``           phase: "offer"|"teardown"|"patch"|..., method, url (redacted), status: int|None,
                     request_headers: {..}, response_headers: {..} (both redacted),
                     request_content_type, response_content_type, form_fields: [names] (multipart),
                     t_request, t_response (capture clock), location: str|None, etag: str|None,
                     body_excerpt: str|None (response body when not SDP), error: str|None,
                     timings: {name: number} (HAR imports: the HAR's own timings, ms),
                     request_fragment, response_fragment: str (PATCH "patch"/"restart" only: the
                     trickle-ice-sdpfrag sent and the one answered, RFC 9725 §4.3/§4.4)
- ``rtp_first``      direction: "sent"|"received", ssrc: int, kind: "audio"|"video"|None,
                     mid: str|None, payload_type: int
- ``datachannel``    label, id: int|None, action: "open"|"close", protocol: str
- ``dc_message``     label, direction: "sent"|"received", size: int (bytes), binary: bool,
                     data: str (text, truncated to the size limit), truncated: bool,
                     json_type: str (when the message is JSON with a string ``type``)
- ``rtcp``           direction: "sent"|"received", packet_type: one of RTCP_TYPES,
                     pt: int, fmt: int, sender_ssrc: int|None, media_ssrc: int|None,
                     lost: [seq, ...] (NACK only), size: int;
                     a REMB also has remb_bitrate_bps: int (the peer's estimate, bits/s) and
                     remb_ssrcs: [int, ...] (the SSRCs it applies to); an SR/RR with report blocks
                     has reports: [{"ssrc", "fraction_lost" (raw, /256), "packets_lost" (cumulative),
                     "highest_seq" (extended), "jitter" (RTP units), "lsr", "dlsr"}], each block as
                     sent; an SR also has lsr: int (the middle 32 bits of its NTP time, which report
                     blocks echo: RFC 3550 §6.4.1)
- ``stats``          reports: [ {"id", "type", "timestamp" (capture clock s), ...W3C fields} ];
                     rtcprobe fields beyond W3C: candidate-pair remoteEstimatedBitrate (the last
                     REMB the peer sent, bits/s)
- ``extensions_seen`` direction: "sent"|"received", ssrc: int, ids: [int, ...]
- ``ice_servers``    source: "options"|"whip-link", urls: [..] (credentials never written), applied: bool,
                     note: str; from options (recorded after gathering) also policy: "all"|"relay",
                     servers: [{"url", "carrier": "udp"|"tcp"|"tls", "username_given",
                     "credential_given", "used", "note"}] (aioice uses the first STUN and the first
                     TURN URL), allocations: [{"server", "carrier", "ok", "elapsed", "relayed" or
                     "error_code" + "reason"}] (each TURN allocation of the gathering; applied is
                     false when one failed, and note is then its diagnosis)
- ``ice_pairs``      pairs: [{"local", "remote", "state", "nominated"}] (aioice's check list, at connect
                     or failure)
- ``selected_pair``  component: int, local, remote: "host:port/udp" (as in ice_pairs),
                     local_type, remote_type: "host"|"srflx"|"prflx"|"relay", previous: {"local",
                     "remote"}|None — the pair ICE sends on, each time it is selected: the first
                     nomination, and every later change (a peer may switch ::1 -> 127.0.0.1)
- ``impairment``     the network rtcprobe.net put under the session (``capture --impair``):
                     action: "set" (conditions applied, at the moment they apply): at: float
                     (scheduled time, capture clock), spec: str (as written), seed: int, up, down:
                     {loss_pct, burst, delay_ms, jitter_ms, reorder_pct, duplicate_pct, rate_bps,
                     queue_bytes, rtploss_pct} ("up" = what the probe sends);
                     action: "counts" (every stats interval, cumulative) | "summary" (at the end):
                     up, down: {packets, bytes, dropped_loss, dropped_queue, duplicated, reordered,
                     delayed, delivered, delivered_bytes, lost_at_close, queue_max_bytes,
                     delay_mean_ms, delay_max_ms, late_mean_ms, late_max_ms (held longer than
                     asked: event-loop lateness), by_class: {stun|dtls|rtp|rtcp|other: {packets,
                     dropped}}}, and in the summary only loss_drops: [datagram index], rtp_drops:
                     {ssrc: [seq]}, drops_truncated: bool — what the impairment did: the truth next to
                     what was measured
- ``offer_profile``  the offer the probe sent (``capture --offer``): name, browser|service, version, source: str
                     (the profile's provenance), shaped: bool (false: aiortc's own offer), aiortc_offer:
                     str (aiortc's offer before shaping), notes: [str]
- ``answer_adapted`` what the probe can do with the answer: adapted: bool (aiortc applies another text
                     than the recorded answer), cannot_encode, rewritten: {mid: [str]}, unwrapped:
                     {mid: [str]} (RED/FEC that rtcprobe.probe.red receives), extensions:
                     {mid: {uri: id}}, notes: [str]
- ``voice_turn``     one scripted turn (``capture --turns``, rtcprobe.probe.turns): index: int, utterance: str
                     (its name), barge_in_ms: number|null; capture-clock instants (null when not
                     measured): user_speech_start, user_speech_end (send time of the first/last RTP
                     packet carrying the utterance's speech), agent_first_packet (arrival of the first
                     audio packet of the answer), agent_speech_start, agent_speech_end (arrival of the
                     first/last received audio the VAD calls speech); answered: bool; v2v_ms
                     (agent_speech_start - user_speech_end; null when not answered), rtt_ms,
                     first_packet_ms, turn_detection_ms, server_first_audio_ms, network_ms,
                     silent_padding_ms, server_side_ms (rtcprobe.analyze.voice.breakdown),
                     server_events: {type: ms after user_speech_end} (oai-events, arrival), barge_in
                     fields barge_in_start, agent_stop (capture clock), interruption_ms;
                     unmeasured: {field: why}
- ``error``          phase: "http"|"ice"|"dtls"|"media"|"datachannel"|"setup", message: str
- ``end``            reason: one of END_REASONS, diagnosis: str, duration: float,
                     warnings: [str] (when present: what went wrong without failing the session,
                     e.g. a teardown DELETE answered 500)

Machine-readable: ``VOCABULARY`` below holds, per event, each field's type and whether it is
required (``rtcprobe.capture.validate`` checks every line of a loaded capture against it; this
docstring and ``VOCABULARY`` say the same, tests/test_hostile_captures.py checks the names).
Fields not in the vocabulary are kept (a newer probe may add some); events of an unknown name are
kept too (a newer minor version may add some) and views ignore them, except the timeline, which
lists every event.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..limits import MAX_CAPTURE_SECONDS

SCHEMA = "rtcprobe-capture/1"

HEADER = "header"
SDP = "sdp"
CANDIDATE = "candidate"
STATE = "state"
HTTP = "http"
RTP_FIRST = "rtp_first"
DATACHANNEL = "datachannel"
DC_MESSAGE = "dc_message"
RTCP = "rtcp"
STATS = "stats"
EXTENSIONS_SEEN = "extensions_seen"
ICE_SERVERS = "ice_servers"
ICE_PAIRS = "ice_pairs"
SELECTED_PAIR = "selected_pair"
IMPAIRMENT = "impairment"
OFFER_PROFILE = "offer_profile"  # written by rtcprobe.probe.offer_shape
ANSWER_ADAPTED = "answer_adapted"
VOICE_TURN = "voice_turn"  # written by rtcprobe.probe.turns
ERROR = "error"
END = "end"

EVENT_NAMES = (
    HEADER, SDP, CANDIDATE, STATE, HTTP, RTP_FIRST, DATACHANNEL, DC_MESSAGE,
    RTCP, STATS, EXTENSIONS_SEEN, ICE_SERVERS, ICE_PAIRS, SELECTED_PAIR, ERROR, END,
    IMPAIRMENT, OFFER_PROFILE, ANSWER_ADAPTED, VOICE_TURN,
)

#: RTCP packet classes, by (PT, FMT) — see rtcprobe.probe.rtcp for the classifier.
RTCP_TYPES = (
    "SR", "RR", "SDES", "BYE", "APP", "XR",
    "NACK", "TWCC", "RTPFB",  # RTPFB: FMT 1 = NACK, 15 = transport-cc, other = RTPFB
    "PLI", "SLI", "RPSI", "FIR", "REMB", "PSFB",  # PSFB: 1 PLI, 2 SLI, 3 RPSI, 4 FIR, 15 AFB/REMB
    "UNKNOWN",
)

#: Why a capture ended. "completed" is the only success.
END_REASONS = ("completed", "http", "ice", "dtls", "media", "timeout", "interrupted", "error")


# -- the vocabulary as data -----------------------------------------------------------------------

#: JSON value kinds a field may take: "str", "int" (not bool), "number" (int or float, not bool),
#: "bool", "null", "list", "object", "any".
Kind = str


@dataclass(frozen=True)
class Shape:
    """What a value may be: one of `kinds`; a list's `items`, an object's `fields` (known keys; others
    kept) or `values` (a map: every value), a string's `choices` (when the set is closed), a
    number's `bounds`."""

    kinds: tuple[Kind, ...]
    items: Shape | None = None
    fields: dict[str, Field] | None = None
    values: Shape | None = None
    choices: tuple[str, ...] | None = None
    bounds: tuple[float, float] | None = None  # a number's range (inclusive)


@dataclass(frozen=True)
class Field:
    shape: Shape
    required: bool = False


def _s(*kinds: Kind, **more: object) -> Shape:
    return Shape(kinds, **more)  # type: ignore[arg-type]


def req(shape: Shape) -> Field:
    return Field(shape, required=True)


def opt(shape: Shape) -> Field:
    return Field(shape)


TEXT, INT, NUMBER, BOOL = _s("str"), _s("int"), _s("number"), _s("bool")
#: The capture clock (`t`, `t_request`, `duration`, a stats `timestamp`): seconds since the start,
#: which views turn into wall-clock datetimes (pandas stops at the year 2262).
CLOCK = _s("number", bounds=(0.0, MAX_CAPTURE_SECONDS))
CLOCK_OR_NULL = _s("number", "null", bounds=(0.0, MAX_CAPTURE_SECONDS))
TEXT_OR_NULL, INT_OR_NULL, NUMBER_OR_NULL = _s("str", "null"), _s("int", "null"), _s("number", "null")
DIRECTION = _s("str", choices=("sent", "received"))
SIDE = _s("str", choices=("local", "remote"))
INTS = _s("list", items=INT)
TEXTS = _s("list", items=TEXT)
HEADERS = _s("object", values=TEXT)  # HTTP headers, redacted: name -> value
ENDPOINTS = {"local": req(TEXT), "remote": req(TEXT)}

#: Fields of a W3C stats report that views read by type (ids join reports; counters are summed and
#: differenced). Other fields are kept as they are: views take numbers as metrics and skip the rest.
STATS_REPORT_FIELDS: dict[str, Field] = {
    "id": req(TEXT), "type": req(TEXT), "timestamp": opt(CLOCK_OR_NULL),
    "ssrc": opt(INT), "kind": opt(TEXT), "mid": opt(TEXT_OR_NULL),
    **{name: opt(TEXT) for name in ("transportId", "codecId", "localId", "remoteId", "localCandidateId",
                                     "remoteCandidateId", "selectedCandidatePairId", "candidateType",
                                     "protocol", "foundation", "state", "mimeType")},
    "address": opt(TEXT_OR_NULL), "port": opt(INT), "priority": opt(INT), "nominated": opt(BOOL),
    "payloadType": opt(INT), "clockRate": opt(INT),
    **{name: opt(NUMBER) for name in (
        "packetsSent", "bytesSent", "headerBytesSent", "retransmittedPacketsSent", "retransmittedBytesSent",
        "packetsReceived", "bytesReceived", "headerBytesReceived", "retransmittedPacketsReceived",
        "retransmittedBytesReceived", "packetsLost", "jitter", "roundTripTime", "fractionLost",
        "currentRoundTripTime", "totalRoundTripTime", "remoteEstimatedBitrate", "nackCount", "pliCount",
        "firCount", "reportsSent", "remoteTimestamp", "lastPacketReceivedTimestamp",
        "availableOutgoingBitrate", "framesDecoded", "framesEncoded", "framesPerSecond")},
}
STATS_REPORT = _s("object", fields=STATS_REPORT_FIELDS)

#: Header fields (line 1). A header field that does not fit is removed (the header itself stays).
HEADER_FIELDS: dict[str, Field] = {
    "schema": req(TEXT), "rtcprobe": opt(TEXT), "aiortc": opt(TEXT), "target": opt(TEXT_OR_NULL),
    "protocol": opt(TEXT_OR_NULL), "options": opt(_s("object")), "started_at": opt(TEXT),
    "started_at_epoch": opt(_s("number", bounds=(0.0, 2.0**32))), "id": opt(TEXT),  # up to 2106
}

#: Per event, its fields beyond ``event`` and ``t`` (both required everywhere: a string, and CLOCK).
VOCABULARY: dict[str, dict[str, Field]] = {
    SDP: {"role": req(SIDE), "type": req(_s("str", choices=("offer", "answer", "pranswer", "rollback"))),
          "sdp": req(TEXT)},
    CANDIDATE: {"side": req(SIDE), "candidate": req(TEXT), "mid": opt(TEXT_OR_NULL),
                "mline_index": opt(INT_OR_NULL), "ignored": opt(TEXT)},
    STATE: {"machine": req(TEXT), "state": req(TEXT)},
    HTTP: {"phase": opt(TEXT), "method": req(TEXT), "url": req(TEXT), "status": opt(INT_OR_NULL),
           "request_headers": opt(HEADERS), "response_headers": opt(HEADERS),
           "request_content_type": opt(TEXT_OR_NULL), "response_content_type": opt(TEXT_OR_NULL),
           "form_fields": opt(TEXTS), "t_request": opt(CLOCK_OR_NULL), "t_response": opt(CLOCK_OR_NULL),
           "location": opt(TEXT_OR_NULL), "etag": opt(TEXT_OR_NULL), "body_excerpt": opt(TEXT_OR_NULL),
           "error": opt(TEXT_OR_NULL), "timings": opt(_s("object", values=NUMBER)),
           "request_fragment": opt(TEXT_OR_NULL), "response_fragment": opt(TEXT_OR_NULL)},
    RTP_FIRST: {"direction": req(DIRECTION), "ssrc": req(INT), "kind": opt(TEXT_OR_NULL),
                "mid": opt(TEXT_OR_NULL), "payload_type": opt(INT)},
    DATACHANNEL: {"label": req(TEXT), "id": opt(INT_OR_NULL), "action": req(_s("str", choices=("open", "close"))),
                  "protocol": opt(TEXT)},
    DC_MESSAGE: {"label": req(TEXT), "direction": req(DIRECTION), "size": req(INT), "binary": req(BOOL),
                 "data": req(TEXT), "truncated": req(BOOL), "json_type": opt(TEXT)},
    RTCP: {"direction": req(DIRECTION), "packet_type": req(_s("str", choices=RTCP_TYPES)), "pt": req(INT),
           "fmt": req(INT), "sender_ssrc": opt(INT_OR_NULL), "media_ssrc": opt(INT_OR_NULL), "lost": opt(INTS),
           "size": req(INT), "remb_bitrate_bps": opt(NUMBER), "remb_ssrcs": opt(INTS),
           "lsr": opt(INT), "reports": opt(_s("list", items=_s("object", fields={
               **{name: req(INT) for name in ("ssrc", "fraction_lost", "packets_lost", "highest_seq", "jitter")},
               "lsr": opt(INT), "dlsr": opt(INT)})))},
    STATS: {"reports": req(_s("list", items=STATS_REPORT))},
    EXTENSIONS_SEEN: {"direction": req(DIRECTION), "ssrc": req(INT), "ids": req(INTS)},
    ICE_SERVERS: {"source": opt(TEXT), "urls": req(_s("list", items=_s("str", "list", items=TEXT))),
                  "applied": opt(BOOL), "note": opt(TEXT), "policy": opt(_s("str", choices=("all", "relay"))),
                  "servers": opt(_s("list", items=_s("object", fields={
                      "url": req(TEXT), "carrier": opt(TEXT), "used": opt(BOOL), "note": opt(TEXT)}))),
                  "allocations": opt(_s("list", items=_s("object", fields={
                      "server": req(TEXT), "carrier": opt(TEXT), "ok": req(BOOL), "elapsed": opt(NUMBER),
                      "relayed": opt(TEXT), "error_code": opt(INT), "reason": opt(TEXT)})))},
    ICE_PAIRS: {"pairs": req(_s("list", items=_s("object", fields={
        **ENDPOINTS, "state": req(TEXT), "nominated": opt(BOOL)})))},
    SELECTED_PAIR: {"component": opt(INT), **ENDPOINTS, "local_type": opt(TEXT_OR_NULL),
                    "remote_type": opt(TEXT_OR_NULL),
                    "previous": opt(_s("object", "null", fields=ENDPOINTS))},
    ERROR: {"phase": opt(TEXT), "message": req(TEXT)},
    END: {"reason": req(_s("str", choices=END_REASONS)), "diagnosis": opt(TEXT), "duration": opt(CLOCK),
          "warnings": opt(TEXTS)},
    OFFER_PROFILE: {**{name: opt(TEXT) for name in ("name", "browser", "service", "version", "source")},
                    "shaped": opt(BOOL), "aiortc_offer": opt(TEXT), "notes": opt(TEXTS)},
    ANSWER_ADAPTED: {"adapted": opt(BOOL), "cannot_encode": opt(_s("object", values=TEXTS)),
                     "rewritten": opt(_s("object", values=TEXTS)), "unwrapped": opt(_s("object", values=TEXTS)),
                     "extensions": opt(_s("object", values=_s("object", values=INT))), "notes": opt(TEXTS)},
    IMPAIRMENT: {"action": req(_s("str", choices=("set", "counts", "summary"))), "at": opt(NUMBER),
                 "spec": opt(TEXT), "seed": opt(INT), "up": opt(_s("object")), "down": opt(_s("object"))},
    VOICE_TURN: {"index": req(INT), "utterance": req(TEXT), "answered": req(BOOL), "barge_in_ms": opt(NUMBER_OR_NULL),
                 **{name: opt(CLOCK_OR_NULL) for name in (
                     "user_speech_start", "user_speech_end", "agent_first_packet", "agent_speech_start",
                     "agent_speech_end", "barge_in_start", "agent_stop")},
                 **{name: opt(NUMBER_OR_NULL) for name in (
                     "v2v_ms", "rtt_ms", "first_packet_ms", "turn_detection_ms", "server_first_audio_ms",
                     "network_ms", "silent_padding_ms", "server_side_ms", "interruption_ms")},
                 "server_events": opt(_s("object", values=NUMBER)), "unmeasured": opt(_s("object", values=TEXT))},
}

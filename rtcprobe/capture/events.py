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
                     body_excerpt: str|None (response body when not SDP), error: str|None
- ``rtp_first``      direction: "sent"|"received", ssrc: int, kind: "audio"|"video"|None,
                     mid: str|None, payload_type: int
- ``datachannel``    label, id: int|None, action: "open"|"close", protocol: str
- ``dc_message``     label, direction: "sent"|"received", size: int (bytes), binary: bool,
                     data: str (text, truncated to the size limit), truncated: bool
- ``rtcp``           direction: "sent"|"received", packet_type: one of RTCP_TYPES,
                     pt: int, fmt: int, sender_ssrc: int|None, media_ssrc: int|None,
                     lost: [seq, ...] (NACK only), size: int;
                     a REMB also has remb_bitrate_bps: int (the peer's estimate, bits/s) and
                     remb_ssrcs: [int, ...] (the SSRCs it applies to)
- ``stats``          reports: [ {"id", "type", "timestamp" (capture clock s), ...W3C fields} ];
                     rtcprobe fields beyond W3C: candidate-pair remoteEstimatedBitrate (the last
                     REMB the peer sent, bits/s)
- ``extensions_seen`` direction: "sent"|"received", ssrc: int, ids: [int, ...]
- ``ice_servers``    source: "options"|"whip-link", urls: [..] (credentials never written), applied: bool,
                     note: str
- ``ice_pairs``      pairs: [{"local", "remote", "state", "nominated"}] (aioice's check list, at connect
                     or failure)
- ``selected_pair``  component: int, local, remote: "host:port/udp" (as in ice_pairs),
                     local_type, remote_type: "host"|"srflx"|"prflx"|"relay", previous: {"local",
                     "remote"}|None — the pair ICE sends on, each time it is selected: the first
                     nomination, and every later change (a peer may switch ::1 -> 127.0.0.1)
- ``error``          phase: "http"|"ice"|"dtls"|"media"|"datachannel"|"setup", message: str
- ``end``            reason: one of END_REASONS, diagnosis: str, duration: float,
                     warnings: [str] (when present: what went wrong without failing the session,
                     e.g. a teardown DELETE answered 500)
"""

from __future__ import annotations

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
ERROR = "error"
END = "end"

EVENT_NAMES = (
    HEADER, SDP, CANDIDATE, STATE, HTTP, RTP_FIRST, DATACHANNEL, DC_MESSAGE,
    RTCP, STATS, EXTENSIONS_SEEN, ICE_SERVERS, ICE_PAIRS, SELECTED_PAIR, ERROR, END,
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

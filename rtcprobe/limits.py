"""Every size, time and count limit of rtcprobe in one place, each with why it has that value.

Slices of the hardening work append here; the README's sections on bad input and on `serve`
quote these values.
"""

from __future__ import annotations

MiB = 1024 * 1024

# -- input files (rtcprobe.errors.open_input) ------------------------------------------------

#: Bytes read from one input file, counted after gunzip: a 4 MB gzip can expand to gigabytes. The
#: largest real dumps seen are ~200 MB of JSON; reading a whole-document format needs about twice
#: this in memory, so 512 MiB keeps a bomb far from a MemoryError. `--max-size` raises it per run.
MAX_INPUT_BYTES = 512 * MiB
#: One line of a line-based record (rtcstats dumps): a getStats line is well under 1 MB; a longer
#: line is skipped with a warning so that one line cannot hold the whole file in memory.
MAX_LINE_BYTES = 64 * MiB
#: JSON nesting depth accepted from any input: real records nest fewer than 10 levels; Python's own
#: json stops at its recursion limit (~1000) and the code that walks the values afterwards needs room.
MAX_JSON_DEPTH = 200


# -- a hostile server, on the probe's side (signaling) --

#: Largest HTTP response body the probe reads from a target (an answer SDP, an error body). Real
#: answers are a few KiB (OpenAI's: ~2 KiB; a browser's with many candidates: < 20 KiB); 1 MiB leaves
#: room for any real one, and stops a 1 GB answer at 1 MiB instead of gigabytes of memory.
MAX_RESPONSE_BYTES = 1 * MiB
#: Bytes read per chunk while streaming a response body towards MAX_RESPONSE_BYTES.
RESPONSE_CHUNK_BYTES = 64 * 1024

# -- redaction --

#: Strings longer than this are scrubbed without the cache: a peer's long, unique messages would
#: otherwise pin up to 65,536 of them in memory.
REDACT_CACHED_CHARS = 4096
#: How far past a cut the redactor looks, so that a secret split by a truncation (a 4 KiB message,
#: a 500-character excerpt) is recognised whole; longer than any token or key in use (JWTs ~1-2 KiB).
REDACT_MARGIN_CHARS = 8192

# -- the reference target (`rtcprobe serve`) as a network service --
# Each is the default of a `serve` flag of the same name (rtcprobe/server/config.py).

#: Seconds from a connection's start (or its previous answer) to the end of the next request's
#: headers; also how long an idle keep-alive connection stays open. A real client sends its headers
#: in one packet; 10 s is far above any loopback or LAN round trip and closes slowloris sockets.
HEADER_TIMEOUT = 10.0
#: Seconds to receive a whole request body once its headers are in: an offer is a few KiB, so a body
#: that announces 1 MB and sends 5 bytes is answered 408 instead of being waited for forever.
BODY_TIMEOUT = 10.0
#: Largest request body (an offer, a trickle fragment, a form): Chromium offers are ~5-10 KiB even
#: with simulcast; aiohttp's own default (1 MiB) is kept and answered 413 beyond.
MAX_REQUEST_BYTES = 1 * MiB
#: Open connections from one client address; more are answered 503 and closed. Browsers open at most
#: 6 per host; a local load test of many probes comes from one address (127.0.0.1), hence room.
MAX_CONNECTIONS_PER_IP = 128
#: Live sessions (peer connections) at once; offers beyond are answered 503 + Retry-After. Measured
#: (bench/serve_sessions.py): an offer never connected holds ~0.1 MiB and 2 fds until its 30 s
#: deadline, a connected audio+data session ~3 MiB and 2 fds; 200 stays under ~0.7 GiB and 410 fds
#: (below the usual 1024-fd soft limit). CPU runs out first for sessions that echo media.
MAX_SESSIONS = 200
#: Retry-After (seconds) on a 503 for too many sessions or connections: a session that never
#: connects is closed after 30 s (server/peer.py CONNECT_DEADLINE), so a slot frees within that.
RETRY_AFTER_SECONDS = 5
#: Characters kept of a data-channel message's JSON `type` (event names are short, such as
#: `response.output_audio.delta`); a peer's 1 MB "type" must not be copied into every view.
MESSAGE_TYPE_CHARS = 200

# -- network impairment (rtcprobe.net, `capture --impair`) --

#: Longest delay= or jitter= a SPEC may ask for: ICE consent and DTLS retransmission give up after
#: seconds, so a longer one-way delay tests nothing but timeouts; 10 s is above any real path.
IMPAIR_MAX_DELAY = 10.0
#: Smallest queue= (bytes): below one full-size datagram the rate queue would drop every large packet.
IMPAIR_MIN_QUEUE_BYTES = 1500
#: The rate queue's default is 1.5 x rate x delay (webrtcperf's throttler); with a shorter delay than
#: this (delay 0), this is used, so that a rate with no delay still queues a burst: 30 ms of the rate,
#: a shallow router buffer (at 500 kbit ~1.9 kB; never below IMPAIR_MIN_QUEUE_BYTES).
IMPAIR_MIN_QUEUE_DELAY = 0.020
#: Packets held in one direction's delay line at once: past it, a packet is dropped as a queue drop
#: (memory bound for a long delay at a high send rate; 10 s at 5,000 packets/s).
IMPAIR_MAX_HELD_PACKETS = 50_000
#: Dropped datagrams listed one by one in the `impairment` summary, per direction (indices of loss
#: drops; RTP SSRC and sequence numbers): 5 % of a 10-minute video call at 300 packets/s is 9,000.
IMPAIR_MAX_RECORDED_DROPS = 20_000

# -- captures read back (rtcprobe.capture.reader) --

#: Lines of one capture listed by number when they are skipped (unreadable, or fields that do not fit
#: the event vocabulary); beyond it one line gives the count. A damaged capture can have a skipped
#: line per event, and a warning per line would bury the rest of the report.
CAPTURE_PROBLEMS_LISTED = 20
#: Largest capture-clock value (`t`, `duration`, seconds since the capture started) a capture may
#: hold: about 115 days, far beyond any session, and far below where wall-clock times overflow.
MAX_CAPTURE_SECONDS = 10_000_000.0

# -- SDP (rtcprobe.sdp.parse) --

#: Lines of one session description. Real ones have tens to a few thousand (a Chromium offer with
#: simulcast: ~150; an SFU offer with 100 m-lines: ~5,000): 10x that. Parsing and profiling are
#: linear (README, benchmarks); the views are not cheap per candidate (`analyze --json` of 100,000
#: candidates needs more than 1.5 GiB), so the limit stays where every view fits in memory.
MAX_SDP_LINES = 50_000
#: Bytes of one session description (the same reasoning: 50,000 lines of ~80 bytes).
MAX_SDP_BYTES = 4 * 1024 * 1024

# -- TURN (rtcprobe.probe.ice_servers) --

#: Distinct refusals kept per TURN allocation after it succeeded (a ChannelBind answered 403 for the
#: target's address): one is the diagnosis; a few tell a refusal that varies from one that repeats.
#: aioice retries a failed binding on every check it sends, so the count is bounded, not the wording.
TURN_PEER_REFUSALS_KEPT = 4

# -- voice (rtcprobe.voice) --

#: Longest utterance a WAV may hold (seconds): a turn is a sentence or two, and its PCM is kept in
#: memory at 48 kHz (60 s = 5.8 MB); a longer file is more likely a wrong file than a turn.
MAX_UTTERANCE_SECONDS = 60.0

# -- trickle ICE (rtcprobe.signaling.trickle) --

#: Most characters of a trickle-ice-sdpfrag an `http` event keeps (request or answer): a fragment
#: is credentials and a few candidates (< 2 kB); a server's 1 MB answer is not kept whole.
MAX_FRAGMENT_CHARS = 16_000

# -- rtcprobe check (rtcprobe.conformance) --

#: How long `check` waits for its session's ICE+DTLS to connect.
CHECK_CONNECT_SECONDS = 10.0
#: delete.media_stops: packets counted over this long before DELETE, and again over this long
#: from CHECK_WIRE_GRACE_SECONDS after it (in flight, a server's last packets may still arrive).
#: 3 s holds at least two RTCP receiver reports of aiortc (one every 0.5-1.5 s).
CHECK_WIRE_WATCH_SECONDS = 3.0
CHECK_WIRE_GRACE_SECONDS = 1.0
#: The longest Retry-After `check` honours before retrying a 503'd POST once.
CHECK_MAX_RETRY_AFTER = 10.0

# -- rtcprobe load (rtcprobe.loadtest) --

#: The longest Retry-After a `load` session honours (once) after a 503 before counting it failed
#: ("target busy"): serve asks for RETRY_AFTER_SECONDS (5); a longer wait would stretch the ramp.
LOAD_MAX_RETRY_AFTER = 10.0

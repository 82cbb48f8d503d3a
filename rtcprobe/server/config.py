"""The reference target's knobs: one dataclass, and the `rtcprobe serve` flags that map onto it 1:1."""

from __future__ import annotations

import argparse
import ipaddress
import os
from dataclasses import dataclass, field, fields

from aiortc import RTCRtpSender

from .. import limits
from ..errors import InputError
from ..net.spec import ScheduledSpec
from ..profiles import load_answer_profile
from .impair import served_schedule

SOURCE = "rtcprobe serve"
#: Default HTTP port of `rtcprobe serve` (the dataclass default 0 picks a free port, for tests).
DEFAULT_PORT = 8080


@dataclass
class ServerConfig:
    """Everything the reference target can be told to do differently."""

    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port
    token: str | None = None  # when set, every signaling request needs `Authorization: Bearer`

    # Answer candidates. Advertised candidates are host candidates written into the answer only:
    # nothing listens on them, so they never connect; the real ones are kept unless only_advertised.
    advertise_ips: list[str] = field(default_factory=list)
    advertise_udp_port: int | None = 3478  # None or 0: no UDP candidates
    advertise_tcp_port: int | None = 443  # None or 0: no TCP (passive) candidates
    only_advertised: bool = False
    rtcp_candidates: bool = False  # add component-2 copies, as services without rtcp-mux-only do
    end_of_candidates: bool = True

    # Codec restriction on the answerer (mime subtypes such as "opus", "PCMU", "H264", "rtx");
    # empty: everything aiortc supports. A list without "rtx" means no RTX.
    audio_codecs: list[str] = field(default_factory=list)
    video_codecs: list[str] = field(default_factory=list)
    # "decoded": media is decoded and encoded again (what a service that listens does);
    # "packets": echoed encoded, frame for frame (server/passthrough.py), far less CPU per session
    echo: str = "decoded"

    # The network under each session (server/impair.py: rtcprobe.net's engine, "up" = what the
    # target sends), seeded to be repeatable: SPECs as `capture --impair`, a schedule file, or the
    # aliases delay_ms (up:delay=) and loss_percent (up:rtploss=: outbound RTP only).
    impair: list[str] = field(default_factory=list)
    impair_schedule: str | None = None
    delay_ms: float = 0.0
    loss_percent: float = 0.0
    seed: int = 0

    # HTTP faults on the signaling endpoints.
    http_status: int | None = None  # answer every offer with this status
    http_delay_ms: float = 0.0  # wait before answering
    garbage_body: bool = False  # answer 201 with an HTML page instead of SDP

    # Answer as a recorded service does (rtcprobe/profiles/answers/NAME.json; server/answer_shape.py):
    # it decides codecs, extensions, feedback, setup and the candidate shape, so it excludes the
    # codec and candidate knobs above.
    answer_profile: str | None = None
    dtls_cert: str = "ecdsa"  # "rsa": for RSA-only clients when the target is the DTLS server (dtls.py)

    bad_fingerprint: bool = False  # answer with wrong DTLS fingerprints: ICE connects, DTLS fails
    absolute_location: bool = False  # Location headers as absolute URLs (default: paths)
    cors: bool = True  # answer preflights and let pages on any origin read answers and headers
    # WHIP ICE servers, sent as `Link: <url>; rel="ice-server"` (RFC 9725 §4.6); TURN URLs get
    # the username and credential.
    ice_servers: list[str] = field(default_factory=list)
    ice_username: str | None = None
    ice_credential: str | None = None

    require_beta_header: bool = False  # /v1/realtime refuses offers without `OpenAI-Beta`
    vad: bool = True  # send input_audio_buffer.speech_started/stopped on oai-events
    # Answer speech with speech (server/voice_agent.py): vad_silence_ms of silence ends the user's
    # turn, think_ms later the answer starts; its true instants go out with the events.
    voice_agent: bool = False
    think_ms: float = 300.0
    vad_silence_ms: int = 500

    # Limits as a network service (defaults and why: rtcprobe/limits.py).
    header_timeout: float = limits.HEADER_TIMEOUT
    body_timeout: float = limits.BODY_TIMEOUT
    max_connections_per_ip: int = limits.MAX_CONNECTIONS_PER_IP
    max_sessions: int = limits.MAX_SESSIONS

    #: What impair/impair_schedule/the aliases make, parsed once (validate): every session's schedule.
    impair_entries: list[ScheduledSpec] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError with one line naming the knob and what it takes."""
        if self.echo not in ("decoded", "packets"):
            raise ValueError(f"echo: expected decoded or packets, got {self.echo!r}")
        for ip in self.advertise_ips:
            try:
                ipaddress.ip_address(ip)
            except ValueError:
                raise ValueError(f"advertise IP: expected an IPv4 or IPv6 address, got {ip!r}") from None
        for name in ("advertise_udp_port", "advertise_tcp_port", "port"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 65535:
                raise ValueError(f"{name.replace('_', ' ')}: expected 0..65535, got {value}")
        if self.answer_profile is not None:
            try:
                load_answer_profile(self.answer_profile)
            except InputError as exc:  # an unknown name lists the known ones; a broken file names itself
                raise ValueError(exc.message if exc.source == "<string>" else str(exc)) from None
            knobs = [flag for flag, on in (("--advertise-ip", self.advertise_ips), ("--rtcp-candidates", self.rtcp_candidates),
                     ("--no-end-of-candidates", not self.end_of_candidates), ("--audio-codecs", self.audio_codecs),
                     ("--video-codecs", self.video_codecs)) if on]
            if knobs:
                raise ValueError(f"--answer-profile decides codecs and candidates: drop {', '.join(knobs)}")
        if self.dtls_cert not in ("ecdsa", "rsa"):
            raise ValueError(f"DTLS certificate: expected ecdsa or rsa, got {self.dtls_cert!r}")
        if self.only_advertised and not self.advertise_ips:
            raise ValueError("only advertised candidates: give at least one advertise IP")
        if not 0 <= self.loss_percent <= 100:
            raise ValueError(f"loss percent: expected 0..100, got {self.loss_percent:g}")
        if self.delay_ms < 0 or self.http_delay_ms < 0:
            raise ValueError("delays must not be negative")
        self.impair_entries = served_schedule(self.impair, self.impair_schedule, self.loss_percent, self.delay_ms)
        for name in ("header_timeout", "body_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name.replace('_', ' ')}: expected seconds > 0, got {getattr(self, name)}")
        for name in ("max_connections_per_ip", "max_sessions"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name.replace('_', ' ')}: expected at least 1, got {getattr(self, name)}")
        if not 0 <= self.think_ms <= 60_000:
            raise ValueError(f"think ms: expected 0..60000, got {self.think_ms:g}")
        if not 20 <= self.vad_silence_ms <= 10_000:
            raise ValueError(f"VAD silence ms: expected 20..10000 (the VAD's frames are 20 ms), got {self.vad_silence_ms}")
        if self.http_status is not None and not 100 <= self.http_status <= 599:
            raise ValueError(f"HTTP status: expected 100..599, got {self.http_status}")
        for kind in ("audio", "video"):
            names = getattr(self, f"{kind}_codecs")
            known = {c.mimeType.split("/")[1].lower() for c in RTCRtpSender.getCapabilities(kind).codecs}
            unknown = [n for n in names if n.lower() not in known]
            if unknown:
                raise ValueError(
                    f"{kind} codecs: {', '.join(unknown)} not supported by aiortc"
                    f" (one of {', '.join(sorted(known))})"
                )
            if names and all(n.lower() == "rtx" for n in names):
                raise ValueError(f"{kind} codecs: rtx needs a media codec next to it")


def _codec_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """The `rtcprobe serve` flags; each sets the ServerConfig field of the same name."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"HTTP port (default {DEFAULT_PORT}; 0: any free port)")
    parser.add_argument("--token", help="require `Authorization: Bearer TOKEN` on signaling requests")
    parser.add_argument("--token-env", metavar="NAME",
                        help="read the token from environment variable NAME (keeps it out of ps)")
    cand = parser.add_argument_group("answer candidates")
    cand.add_argument("--advertise-ip", dest="advertise_ips", action="append", default=[], metavar="IP",
                      help="add host candidates on IP to the answer (repeatable; they do not connect)")
    cand.add_argument("--advertise-udp-port", type=int, default=3478, metavar="PORT",
                      help="UDP port of advertised candidates (default 3478; 0: none)")
    cand.add_argument("--advertise-tcp-port", type=int, default=443, metavar="PORT",
                      help="TCP passive port of advertised candidates (default 443; 0: none)")
    cand.add_argument("--only-advertised", action="store_true",
                      help="drop the real candidates, so that ICE cannot succeed")
    cand.add_argument("--rtcp-candidates", action="store_true", help="add component-2 candidates")
    cand.add_argument("--no-end-of-candidates", dest="end_of_candidates", action="store_false",
                      help="leave out a=end-of-candidates")
    media = parser.add_argument_group("media")
    media.add_argument("--audio-codecs", type=_codec_list, default=[], metavar="LIST",
                       help="answer only with these audio codecs, e.g. opus,PCMU")
    media.add_argument("--video-codecs", type=_codec_list, default=[], metavar="LIST",
                       help="answer only with these video codecs, e.g. H264 (add rtx to keep RTX)")
    net = parser.add_argument_group("network impairment (per session; up = what the target sends)")
    net.add_argument("--impair", action="append", default=[], metavar="SPEC",
                     help="the network under each session, as capture --impair: loss=5%%,burst=3,delay=40ms, "
                     "rate=500kbit, up:/down: prefixes, presets (3g, edge, lte, dsl, wifi, verybad), "
                     "rtploss=X%% (RTP only); repeat with at=10s,SPEC for a schedule on the session's clock")
    net.add_argument("--impair-schedule", metavar="FILE",
                     help="a schedule: one `TIME SPEC` a line (10s rate=300kbit), from each session's start")
    net.add_argument("--delay-ms", type=float, default=0.0, metavar="MS",
                     help="alias of --impair up:delay=MSms (every datagram the target sends waits MS)")
    net.add_argument("--loss-percent", type=float, default=0.0, metavar="PERCENT",
                     help="alias of --impair up:rtploss=PERCENT%% (outbound RTP only: RTCP, NACK and RTX pass)")
    net.add_argument("--seed", type=int, default=0, help="seed of the impairment's random draws (default 0)")
    media.add_argument("--echo", choices=("decoded", "packets"), default="decoded",
                       help="how media is echoed: decoded and encoded again (default), or packets: the "
                       "received encoded frames sent back as they are (no audio level; far less CPU per session)")
    media.add_argument("--no-vad", dest="vad", action="store_false",
                       help="do not send speech_started/stopped events on oai-events")
    media.add_argument("--voice-agent", action="store_true",
                       help="answer the client's speech with speech, as a voice agent whose timing is known "
                       "(realtime events with the true instants on oai-events)")
    media.add_argument("--think-ms", type=float, default=300.0, metavar="T",
                       help="--voice-agent: wait T ms after detecting the end of speech before answering (default 300)")
    media.add_argument("--vad-silence-ms", type=int, default=500, metavar="S",
                       help="--voice-agent: S ms of silence end the user's turn (default 500, as OpenAI's server VAD)")
    media.add_argument("--answer-profile", metavar="NAME",
                       help="answer as a recorded service does: openai-2025-09, openai-2024-11, whip-janus "
                       "(rtcprobe/profiles/answers; decides codecs, extensions, feedback and candidate shape)")
    media.add_argument("--dtls-cert", choices=("ecdsa", "rsa"), default="ecdsa",
                       help="DTLS certificate (default ecdsa; RSA suites are accepted as DTLS client either way; "
                       "rsa: for RSA-only clients when the target is the DTLS server, as with openai-2025-09)")
    faults = parser.add_argument_group("HTTP faults")
    faults.add_argument("--http-status", type=int, metavar="CODE", help="answer every offer with CODE")
    faults.add_argument("--http-delay-ms", type=float, default=0.0, metavar="MS",
                        help="wait MS before answering")
    faults.add_argument("--garbage-body", action="store_true", help="answer with HTML instead of SDP")
    faults.add_argument("--bad-fingerprint", action="store_true",
                        help="answer with wrong DTLS fingerprints (ICE connects, DTLS fails)")
    faults.add_argument("--require-beta-header", action="store_true",
                        help="refuse /v1/realtime offers without the OpenAI-Beta header")
    http = parser.add_argument_group("HTTP shape")
    http.add_argument("--absolute-location", action="store_true",
                      help="send Location as an absolute URL (default: a path)")
    http.add_argument("--no-cors", dest="cors", action="store_false",
                      help="send no CORS headers (by default pages on any origin may call the target)")
    http.add_argument("--ice-server", dest="ice_servers", action="append", default=[], metavar="URL",
                      help="advertise a STUN/TURN server in a WHIP Link header (repeatable)")
    http.add_argument("--ice-username", metavar="NAME", help="username for TURN servers in Link headers")
    http.add_argument("--ice-credential", metavar="SECRET",
                      help="credential for TURN servers in Link headers")
    service = parser.add_argument_group("limits as a network service")
    service.add_argument("--header-timeout", type=float, default=limits.HEADER_TIMEOUT, metavar="S",
                         help="close a connection whose request headers are not complete after S seconds,"
                         f" also the idle keep-alive time (default {limits.HEADER_TIMEOUT:g})")
    service.add_argument("--body-timeout", type=float, default=limits.BODY_TIMEOUT, metavar="S",
                         help=f"answer 408 to a body not received within S seconds (default {limits.BODY_TIMEOUT:g})")
    service.add_argument("--max-connections-per-ip", type=int, default=limits.MAX_CONNECTIONS_PER_IP,
                         metavar="N", help="open connections per client address; more get 503 "
                         f"(default {limits.MAX_CONNECTIONS_PER_IP})")
    service.add_argument("--max-sessions", type=int, default=limits.MAX_SESSIONS, metavar="N",
                         help=f"live sessions at once; more offers get 503 + Retry-After (default {limits.MAX_SESSIONS})")


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    """ServerConfig from parsed `serve` flags; InputError (a ValueError, one line, which the CLI
    prints without a traceback) when a value is unusable."""
    names = {f.name for f in fields(ServerConfig)}
    values = {k: v for k, v in vars(args).items() if k in names}
    token_env = getattr(args, "token_env", None)
    if token_env and not values.get("token"):
        values["token"] = os.environ.get(token_env)
        if not values["token"]:
            raise InputError(f"--token-env: environment variable {token_env} is not set", SOURCE)
    for port in ("advertise_udp_port", "advertise_tcp_port"):
        if values.get(port) == 0:
            values[port] = None
    try:
        return ServerConfig(**values)
    except ValueError as exc:
        raise InputError(str(exc), SOURCE) from None

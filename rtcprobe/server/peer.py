"""One answerer session of the reference target: a real aiortc RTCPeerConnection that echoes what
it receives — audio and video on the same transceiver (so the m-line is sendrecv), data-channel
messages on the same channel — and speaks realtime events on `oai-events`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCPeerConnection,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.contrib.media import MediaBlackhole, MediaRelay

from ..probe import audio_level
from ..probe.loopback import loopback_candidates_only
from ..probe.twcc import enable_for_answer
from ..profiles import load_answer_profile
from ..sdp import parse_description
from .answer_shape import PlannedAnswer, ProfileMismatch, plan_answer, served_answer
from .candidates import corrupt_fingerprints, rewrite_candidates
from .config import ServerConfig
from .dtls import install_certificate
from .impair import ServedImpairment, session_impairment
from .passthrough import EncodedEcho
from .realtime import EVENTS_CHANNEL, RealtimeEvents, SpeechDetector
from .voice_agent import VoiceAgent, voice_agent_for
from .whep import playback_track

logger = logging.getLogger(__name__)
audio_level.install()  # the echo's per-packet audio level, in numpy (probe/audio_level.py says why)

#: A session that has not connected by then is closed: its client is gone or cannot reach us,
#: and an offer without end-of-candidates would otherwise keep ICE waiting forever.
CONNECT_DEADLINE = 30.0

#: Offer direction -> what this answerer does with the m-line (RFC 3264 §6.1).
ANSWER_DIRECTION = {"sendrecv": "sendrecv", "sendonly": "recvonly", "recvonly": "sendonly",
                    "inactive": "inactive"}


class OfferError(ValueError):
    """The offer cannot be answered (bad SDP, no common codec): HTTP 400 with this message."""


@dataclass
class EchoSession:
    """A live answerer and what it needs to be torn down."""

    id: str
    endpoint: str
    pc: RTCPeerConnection
    etag: str
    realtime: RealtimeEvents | None = None
    answer_sdp: str = ""
    owner: str | None = None  # digest of the credential that made it (app._owner)
    created: float = field(default_factory=time.monotonic)
    impairment: ServedImpairment | None = None  # serve --impair: this session's network and its counts
    channels: list[RTCDataChannel] = field(default_factory=list)
    voice_agent: VoiceAgent | None = None  # serve --voice-agent: listens and answers on the first audio m-line
    echoes: list[EncodedEcho] = field(default_factory=list)  # serve --echo packets: one per echoed m-line
    _relay: MediaRelay = field(default_factory=MediaRelay)
    _blackhole: MediaBlackhole = field(default_factory=MediaBlackhole)
    _tracks: list[MediaStreamTrack] = field(default_factory=list)
    _closed: bool = False
    _watchdog: asyncio.Task[None] | None = None

    async def close(self, reason: str = "closed") -> None:
        """`reason` is logged (serve -v): deleted by the client, connection failed, never connected, shutdown."""
        if self._closed:
            return
        self._closed = True
        if self._watchdog is not None and self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()
        if self.voice_agent is not None:
            self.voice_agent.stop()
        for track in self._tracks:
            track.stop()
        with contextlib.suppress(Exception):
            await self._blackhole.stop()
        await self.pc.close()
        if self.impairment is not None:  # after the close: its last datagrams crossed the network too
            self.impairment.close()
        logger.info("session %s closed: %s", self.id, reason)


def codec_preferences(kind: str, names: list[str]) -> list[Any]:
    """aiortc's capabilities whose mime subtype is listed, in the listed order."""
    capabilities = RTCRtpSender.getCapabilities(kind).codecs
    chosen = []
    for name in names:
        chosen += [c for c in capabilities if c.mimeType.split("/")[1].lower() == name.lower()]
    return chosen


def _strip_candidates(sdp: str) -> str:
    """The offer without its candidates: with only advertised (unreachable) candidates in the answer,
    the server must not reach the client either, or ICE would succeed peer-reflexively."""
    newline = "\r\n" if "\r\n" in sdp else "\n"
    return newline.join(line for line in sdp.split(newline) if not line.startswith("a=candidate:"))


async def open_session(offer_sdp: str, config: ServerConfig, *, endpoint: str,
                       realtime_session: dict[str, Any] | None = None, ga: bool = True,
                       on_closed: Callable[[EchoSession], None] | None = None) -> EchoSession:
    """Answer `offer_sdp` and return the live session (answer in `answer_sdp`).
    Raises OfferError for offers it cannot answer."""
    try:
        offer = parse_description(offer_sdp, source="offer")
    except ValueError as exc:
        raise OfferError(str(exc)) from None

    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    install_certificate(pc, config.dtls_cert)
    session = EchoSession(id=secrets.token_hex(8), endpoint=endpoint, pc=pc,
                          etag=f'"{secrets.token_hex(6)}"')
    if realtime_session is not None:
        session.realtime = RealtimeEvents(realtime_session, ga=ga)

    # One transceiver per offered m-line, created before setRemoteDescription so that codec
    # preferences apply to the answer (aiortc picks codecs while applying the offer).
    directions: dict[RTCRtpTransceiver, str] = {}
    for media in offer.media:
        if media.kind in ("audio", "video"):
            transceiver = pc.addTransceiver(media.kind, direction="sendrecv")
            names = config.audio_codecs if media.kind == "audio" else config.video_codecs
            if names:
                transceiver.setCodecPreferences(codec_preferences(media.kind, names))
            directions[transceiver] = ANSWER_DIRECTION.get(media.direction, "sendrecv")
    if config.voice_agent:
        session.voice_agent = voice_agent_for(config, directions, session.realtime, session.id)

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        transceiver = next((t for t in pc.getTransceivers() if t.receiver.track is track), None)
        if session.voice_agent is not None and transceiver is session.voice_agent.transceiver:
            session.voice_agent.listen(track)  # the agent hears it; what it sends is its own voice
            return
        source: MediaStreamTrack = track
        if track.kind == "audio" and session.realtime is not None and config.vad:
            source = SpeechDetector(track, on_start=session.realtime.speech_started,
                                    on_stop=session.realtime.speech_stopped)
            session._tracks.append(source)
        if transceiver is not None and directions.get(transceiver) == "sendrecv" and source is track \
                and config.echo == "packets":  # echoed encoded: the track only keeps the sender running
            session.echoes.append(EncodedEcho(transceiver))
            transceiver.sender.replaceTrack(track)
        elif transceiver is not None and directions.get(transceiver) == "sendrecv":
            transceiver.sender.replaceTrack(session._relay.subscribe(source))
        else:
            session._blackhole.addTrack(source)

    @pc.on("datachannel")
    def on_datachannel(channel: RTCDataChannel) -> None:
        session.channels.append(channel)
        if channel.label == EVENTS_CHANNEL and session.realtime is not None:
            session.realtime.attach(channel)
        else:
            channel.on("message", lambda message: _echo(channel, message))

    @pc.on("connectionstatechange")
    async def on_state() -> None:
        logger.info("session %s: connection %s", session.id, pc.connectionState)
        if pc.connectionState in ("failed", "closed"):
            await session.close(f"connection {pc.connectionState}")
            if on_closed is not None:
                on_closed(session)

    plan: PlannedAnswer | None = None
    try:
        remote = _strip_candidates(offer_sdp) if config.only_advertised else loopback_candidates_only(offer_sdp)
        if config.answer_profile is not None:
            plan = plan_answer(remote, load_answer_profile(config.answer_profile))
            remote = plan.aiortc_offer
    except ValueError as exc:  # ProfileMismatch, or an offer the profile's matching cannot read
        await pc.close()
        raise OfferError(str(exc) if isinstance(exc, ProfileMismatch) else f"cannot answer the offer: {exc}") from None
    try:
        await pc.setRemoteDescription(RTCSessionDescription(remote, "offer"))
        session.impairment = session_impairment(session.id, config.impair_entries, config.seed, pc)
        if plan is not None and plan.setup is not None:
            _take_dtls_role(pc, plan.setup)
        for transceiver, direction in directions.items():
            if direction == "sendonly":  # the client only receives: give it something to receive
                generated = playback_track(transceiver.kind)  # the tone or the test pattern
                session._tracks.append(generated)
                transceiver.sender.replaceTrack(generated)
        if session.voice_agent is not None:
            session.voice_agent.start(pc)
        await pc.setLocalDescription(await pc.createAnswer())
    except Exception as exc:  # noqa: BLE001 - aiortc raises several types for unanswerable offers
        with contextlib.suppress(Exception):  # a half-built pc (an m-line without a mid) fails to close
            await pc.close()
        if session.impairment is not None:
            session.impairment.close()
        raise OfferError(f"cannot answer the offer: {exc}") from None
    await session._blackhole.start()
    session._watchdog = asyncio.ensure_future(_close_unless_connected(session, on_closed))
    session.answer_sdp = (served_answer(pc.localDescription.sdp, plan) if plan is not None
                          else rewrite_candidates(pc.localDescription.sdp, config))
    enable_for_answer(pc, session.answer_sdp)  # transport-cc stamping, feedback and estimate when answered
    for note in plan.notes if plan is not None else []:
        logger.info("session %s: %s", session.id, note)
    if config.bad_fingerprint:
        session.answer_sdp = corrupt_fingerprints(session.answer_sdp)
    logger.info("session %s: answered an offer on %s (%d m-lines)", session.id, endpoint,
                len(offer.media))
    return session


def _take_dtls_role(pc: RTCPeerConnection, setup: str) -> None:
    """The recorded a=setup (the offer said actpass): passive makes the target the DTLS server.
    aiortc writes its transports' role into the answer, so it is set before createAnswer."""
    role = {"passive": "server", "active": "client"}.get(setup)
    if role is None:
        return
    transports = {t.receiver.transport for t in pc.getTransceivers()}
    if pc.sctp is not None:
        transports.add(pc.sctp.transport)
    for transport in transports:
        transport._set_role(role)


async def _close_unless_connected(session: EchoSession,
                                  on_closed: Callable[[EchoSession], None] | None) -> None:
    await asyncio.sleep(CONNECT_DEADLINE)
    if session.pc.connectionState != "connected":
        logger.info("session %s: not connected after %g s, closing", session.id, CONNECT_DEADLINE)
        await session.close(f"not connected within {CONNECT_DEADLINE:g} s")
        if on_closed is not None:
            on_closed(session)


def _echo(channel: RTCDataChannel, message: str | bytes) -> None:
    if channel.readyState == "open":
        channel.send(message)


async def close_all(sessions: dict[str, EchoSession]) -> None:
    await asyncio.gather(*(s.close("server shutdown") for s in list(sessions.values())), return_exceptions=True)
    sessions.clear()

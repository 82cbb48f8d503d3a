"""One probe run: a real aiortc session against a target, recorded event by event.

The run is a sequence of phases (signaling, ICE, DTLS, first media, data channel, steady state).
Each phase has a timeout; the first one that fails ends the capture with a classified reason and
a one-line diagnosis. Whatever happens, the capture file ends with an `end` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaBlackhole

from ..capture import CaptureWriter, truncate_message
from ..capture import events as ev
from ..limits import MESSAGE_TYPE_CHARS
from ..matrix.transform import apply_variant
from ..net.record import Impairment
from ..redact import redact_cut, redact_text, redact_url, register_secret
from ..sdp import SdpError, parse_description
from ..signaling import SignalingError, guess_protocol, make_signaler
from ..signaling.exchange import CANCELLED
from . import lite, media
from .connect import ConnectPhases
from .ice_patch import IcePatches
from .ice_servers import (
    Allocation,
    allocations_recorded,
    peer_refusal_note,
    servers_event,
    turn_failure,
)
from .loopback import (
    ignored_reason,
    is_loopback_url,
    loopback_candidates_only,
    restrict_to_loopback,
)
from .media_quality import MediaQuality
from .mediamap import MediaMap
from .offer_shape import ANSWER_ADAPTED, OFFER_PROFILE, AdaptedAnswer, adapt_answer, shape_offer
from .options import ProbeOptions
from .pairs import watch_selected_pairs
from .playback import add_playback, receives_only
from .red import enable_red
from .simulcast import SIMULCAST, enable_simulcast
from .simulcast import shape_offer as shape_simulcast
from .stats import StatsCollector
from .status import ProbeFailure, ProbeResult, ProbeStatus, ticking
from .taps import attach_peer_connection
from .teardown import Ending, end_at_service
from .turns import TurnScript, session_rtt, turn_script
from .twcc import enable_transport_cc

logger = logging.getLogger(__name__)


class ProbeSession(ConnectPhases, Ending):
    """Runs one capture. `run()` never raises for session failures: they become the capture's end."""

    def __init__(self, options: ProbeOptions, on_status: Callable[[ProbeStatus], None] | None = None) -> None:
        self.options = options
        self.protocol = options.protocol or guess_protocol(options.target)
        self.status = ProbeStatus()
        self._on_status = on_status or (lambda status: None)
        self._writer: CaptureWriter | None = None
        self._allocations: list[Allocation] = []  # TURN allocations of the gathering (ice_servers)
        self._task: asyncio.Task[Any] | None = None  # the run, cancelled when the capture cannot take more
        self._pc: RTCPeerConnection | None = None
        self._signaler: Any = None
        self._exchanges_recorded = 0  # how many of the signaler's exchanges are in the capture
        self._collector: StatsCollector | None = None
        self._blackhole = MediaBlackhole()
        self._quality: MediaQuality | None = None  # the received tracks' one consumer (media_quality.py)
        self._consumers: set[asyncio.Future[None]] = set()  # MediaBlackhole.start() calls in flight
        self._ice_connected = asyncio.Event()
        self._connected = asyncio.Event()
        self._dtls_settled = asyncio.Event()
        self._failed = asyncio.Event()
        self._first_rtp = asyncio.Event()
        self._channel_open = asyncio.Event()
        self._remote_candidates: list = []
        self._ignored_candidates: list = []  # remote candidates the loopback policy left out
        self._adapted: AdaptedAnswer | None = None  # the answer as aiortc applied it (offer_shape)
        self._answer_sends: tuple[str, bool] | None = None  # (answer SDP, whether it sends us media)
        self._warnings: list[str] = []  # what went wrong without failing the session (teardown)
        self._impairment: Impairment | None = None  # rtcprobe.net: --impair, the network under aioice
        self._turns: TurnScript | None = None  # --turns: the scripted voice turns
        self._patches: IcePatches | None = None  # WHIP/WHEP trickle and ICE restart (--trickle, --ice-restart-at)
        register_secret(options.token)
        if is_loopback_url(options.target):
            restrict_to_loopback()

    # -- recording helpers ------------------------------------------------------------------
    @property
    def writer(self) -> CaptureWriter:
        assert self._writer is not None
        return self._writer

    def _record(self, event: str, **fields: Any) -> None:
        if self._writer is not None and not self._writer.closed:
            self._writer.write(event, **fields)

    def _record_exchanges(self) -> None:
        """The signaler's HTTP exchanges not yet in the capture (its list only grows)."""
        exchanges = self._signaler.exchanges
        for exchange in exchanges[self._exchanges_recorded:]:
            fields = exchange.to_event()
            self._record(fields.pop("event"), **fields)
        self._exchanges_recorded = len(exchanges)

    def _record_unanswered(self, why: str) -> None:
        """The signaler's exchanges when the phase ended before they did (timeout, Ctrl-C)."""
        if self._signaler is None:
            return
        for exchange in self._signaler.exchanges[self._exchanges_recorded:]:  # each saw only its cancellation
            if exchange.status is None and (not exchange.error or exchange.error.endswith(CANCELLED)):
                exchange.error = f"{exchange.method} {exchange.url}: {why}"
        self._record_exchanges()

    def _phase(self, phase: str, lasts: float | None = None) -> None:
        self.status.phase = phase
        self.status.deadline = self.writer.now() + lasts if lasts is not None and self._writer else None
        self._publish()

    def _publish(self) -> None:
        if self._writer is not None:
            self.status.elapsed = self._writer.now()
        self._on_status(self.status)

    # -- the run ---------------------------------------------------------------------------
    async def run(self) -> ProbeResult:
        """The whole run. An output that cannot be opened raises OutputError before anything is sent."""
        self._writer = CaptureWriter(self.options.output, target=self.options.target, protocol=self.protocol,
                                     options=self.options.for_header(), on_failure=self._output_failed)
        self._task = asyncio.current_task()
        reason, diagnosis = "completed", ""
        try:
            async with ticking(self._publish):  # the live view moves on while a phase waits
                await self._run()
            diagnosis = self._completed_diagnosis()
        except ProbeFailure as failure:
            reason, diagnosis = failure.reason, failure.diagnosis
            if reason == "ice" and peer_refusal_note(self._allocations):
                diagnosis += f"; {peer_refusal_note(self._allocations)}"
        except asyncio.CancelledError:
            reason, diagnosis = self._stopped()
            self._uncancel()
        except Exception as exc:  # noqa: BLE001 - an unexpected failure is still a written capture
            logger.exception("probe failed")
            reason, diagnosis = "error", f"internal error: {type(exc).__name__}: {exc}"
        self._task = None  # from here on, a full disk no longer stops anything: the teardown must run
        diagnosis = redact_text(diagnosis)  # it is printed too, not only written
        if reason != "completed":
            self._record(ev.ERROR, phase=self.status.phase, message=diagnosis)
        self._phase("closing", self.options.timeouts.http)  # the DELETE may take its timeout: the view ticks on
        async with ticking(self._publish):
            await self._teardown_to_the_end()
        duration = self.writer.now()
        warnings = [redact_text(w) for w in self._warnings]
        self._record(ev.END, reason=reason, diagnosis=diagnosis, duration=round(duration, 6),
                     **({"warnings": warnings} if warnings else {}))
        self.writer.close()
        if self.writer.failure is not None:
            warnings.append(self._output_warning())
        self.status.reason, self.status.diagnosis = reason, diagnosis
        self._publish()
        return ProbeResult(str(self.writer.path), reason, diagnosis, duration, self.status, warnings)

    async def _run(self) -> None:
        opts = self.options
        self._signaler = make_signaler(self.protocol, opts.target, token=opts.token, model=opts.model,
                                       session=opts.session, offer_format=opts.offer_format,
                                       clock=self.writer.now, timeout=opts.timeouts.http)
        self._pc = pc = RTCPeerConnection(opts.ice.rtc_configuration())
        self._watch_states(pc)
        self._add_media(pc)
        channel = self._open_channel(pc)
        self._impairment = Impairment.from_options(opts, self.writer.now, self._record)
        if self._impairment is not None:  # wraps each ICE transport's sockets once it has gathered
            self._impairment.attach(pc)

        self._phase("gathering")
        with allocations_recorded() as self._allocations:
            await pc.setLocalDescription(await pc.createOffer())
        self._check_ice_servers(self._allocations)
        shaped = shape_offer(opts.offer, pc.localDescription.sdp)  # as the --offer browser would offer
        if opts.simulcast:  # RID layers on the video m-line, as a browser's simulcast offer
            shaped.sdp, notes = shape_simulcast(shaped.sdp, opts.simulcast)
            shaped.notes += notes
        if opts.variant:  # rtcprobe matrix: the variant's edits of that offer
            shaped.sdp, notes = apply_variant(shaped.sdp, opts.variant)
            shaped.notes += notes
        offer_sdp = shaped.sdp
        self._record(ev.SDP, role="local", type="offer", sdp=offer_sdp)
        self._record(OFFER_PROFILE, **shaped.event_fields())
        self._record_candidates("local", offer_sdp)
        self._collector = StatsCollector(pc, self.writer.now, sink=self._on_packet_event)
        self._collector.attach_peer_connection()
        watch_selected_pairs(pc, self._on_packet_event)  # every selected-pair change, as an event
        self._quality = MediaQuality(pc, self.writer.now, playout=self._decodes("audio"))  # W3C media fields
        attach_peer_connection(pc, self.writer.now, self._quality.observe)
        self._collector.add_inbound_fields(self._quality.inbound_fields)
        self._collector.add_outbound_fields(self._quality.outbound_fields)
        if self._turns is not None:  # send and arrival times of audio, for the voice turns
            attach_peer_connection(pc, self.writer.now, self._turns.observer.observe)  # type: ignore[union-attr]

        self._phase("signaling", opts.timeouts.http)
        try:
            result = await asyncio.wait_for(self._signaler.exchange(offer_sdp), opts.timeouts.http)
        except SignalingError as exc:
            self._record_exchanges()
            raise ProbeFailure(exc.kind if exc.kind in ev.END_REASONS else "http", str(exc)) from None
        except TimeoutError:
            self._record_unanswered(f"no answer within {opts.timeouts.http:g} s")
            raise ProbeFailure("timeout", f"signaling: no answer from {redact_url(opts.target)} within "
                                          f"{opts.timeouts.http:g} s") from None
        except asyncio.CancelledError:
            self._record_unanswered(CANCELLED)
            raise
        self._record_exchanges()
        if result.ice_servers:
            self._record(ev.ICE_SERVERS, source="whip-link", urls=[s.urls for s in result.ice_servers], applied=False,
                         note="aiortc gathers before the offer is sent, so servers learned from the answer cannot be used")
        self._record(ev.SDP, role="remote", type="answer", sdp=result.answer_sdp)
        if opts.answer_only:  # rtcprobe matrix: what was answered is the result; teardown follows
            self._record_candidates("remote", result.answer_sdp)
            return
        try:  # applied before its candidates are parsed and recorded, so that ICE starts at once
            self._adapted = adapt_answer(loopback_candidates_only(result.answer_sdp))  # what aiortc can send
            self._record(ANSWER_ADAPTED, **self._adapted.event_fields())
            await pc.setRemoteDescription(RTCSessionDescription(self._adapted.sdp, "answer"))
            enable_transport_cc(pc, self._adapted.extensions, self.writer.now, collector=self._collector)
            answer = parse_description(result.answer_sdp, "answer")
            enable_red(pc, answer, self.writer.now, collector=self._collector)
            self._quality.answer = MediaMap.from_descriptions(answer)  # type: ignore[union-attr]
            if opts.simulcast:  # the layers the answer accepted, or why one (then also a warning)
                layers = enable_simulcast(pc, result.answer_sdp, opts.simulcast, self.writer.now, collector=self._collector)
                self._record(SIMULCAST, **layers.fields())
                self._warnings += [f"--simulcast {opts.simulcast}: {layers.acceptance.why_one}"] * bool(layers.acceptance.why_one)
        except Exception as exc:  # noqa: BLE001 - aiortc raises ValueError and others for bad answers
            raise ProbeFailure("http", f"signaling: the answer could not be applied: {exc}") from None
        finally:
            self._record_candidates("remote", result.answer_sdp)
        if opts.trickle or opts.ice_restart_at is not None:
            self._patches = IcePatches(self._signaler, pc, self.writer.now, self._record_exchanges, offer_sdp,
                                       opts.trickle, opts.ice_restart_at)
            await self._patches.after_answer()

        await self._await_connected()
        await self._await_media(channel)
        self._phase("running", opts.duration)
        if self._patches is not None:
            self._patches.schedule_restart()
        await (self._turns.run_alongside(self._steady_state) if self._turns else self._steady_state())

    # -- set-up -----------------------------------------------------------------------------
    def _check_ice_servers(self, allocations: list[Allocation]) -> None:
        """Record the ICE servers with what their TURN allocations did; a failed one is a warning,
        or, with --relay-only and no relayed candidate left, the end of the session (reason ice)."""
        ice = self.options.ice
        if not ice.servers:
            return
        self._record(ev.ICE_SERVERS, **servers_event(ice, allocations))
        failure = turn_failure(ice, allocations)
        if failure and ice.relay_only and not any(a.ok for a in allocations):
            raise ProbeFailure("ice", f"{failure}; the offer was not sent")
        if failure:
            self._warnings.append(failure)

    def _add_media(self, pc: RTCPeerConnection) -> None:
        opts = self.options
        if receives_only(self.protocol):  # WHEP: a playback, nothing sent
            add_playback(pc)
        elif opts.audio:
            self._turns = turn_script(opts, self.writer.now, self._record, lambda: session_rtt(self._collector, self.status))
            source = self._turns.source if self._turns else media.audio_source(opts.audio)
            transceiver = pc.addTransceiver(source, direction="sendrecv")
            media.prefer_codec(transceiver, opts.audio_codec)
            if self._turns is not None:
                self._turns.bind(transceiver)
            elif opts.lite:  # one encoded loop of a periodic source, sent over and over (lite.py)
                lite.send_encoded_loop(transceiver.sender, source)
        if opts.video:
            video = media.video_source(size=opts.video_size, fps=opts.fps)
            transceiver = pc.addTransceiver(video, direction="sendrecv")
            if opts.lite and not opts.simulcast:  # simulcast's layers encode their own sizes
                lite.send_encoded_loop(transceiver.sender, video)
        for transceiver in pc.getTransceivers():
            if not self._decodes(transceiver.kind):  # --lite: counted, not decoded (lite.py)
                lite.no_decoding(transceiver.receiver)

        @pc.on("track")
        def on_track(track: Any) -> None:
            if not self._decodes(track.kind):  # no frame will come to consume
                return
            voice = self._turns is not None and track.kind == "audio"  # the agent's voice, decoded, to the VAD too
            if self._quality is not None:  # one recv() loop per track: measured, then handed on
                self._quality.consume(track, self._turns.observer.on_frame if voice else None)  # type: ignore[union-attr]
            elif voice:
                self._turns.observer.consume(track)  # type: ignore[union-attr]
            else:  # and consumed: aiortc queues every decoded frame, unbounded, until someone reads it
                self._blackhole.addTrack(track)
                self._consumers.add(asyncio.ensure_future(self._blackhole.start()))

    def _decodes(self, kind: str) -> bool:
        """Whether received `kind` media is decoded: always, but under --lite, where only the voice
        turns' audio is (their VAD listens to it)."""
        return not self.options.lite or (self._turns is not None and kind == "audio")

    def _open_channel(self, pc: RTCPeerConnection) -> Any:
        label = next(iter(self._signaler.channels), None) or self.options.datachannel
        if not label:
            return None
        channel = pc.createDataChannel(label)
        original_send = channel.send

        def recording_send(data: Any) -> None:
            original_send(data)
            self._record_message(label, "sent", data)

        channel.send = recording_send  # every send, ours or the signaler's, is recorded

        @channel.on("open")
        def on_open() -> None:
            self._record(ev.DATACHANNEL, label=label, id=channel.id, action="open", protocol=channel.protocol)
            self._channel_open.set()
            for message in self._signaler.on_channel_open(channel) or []:
                channel.send(message)
            for message in self.options.send:
                channel.send(message)

        @channel.on("message")
        def on_message(data: Any) -> None:
            self.status.messages_received += 1
            self._record_message(label, "received", data)
            if self._turns is not None:
                self._turns.on_message(data)

        @channel.on("close")
        def on_close() -> None:
            self._record(ev.DATACHANNEL, label=label, id=channel.id, action="close", protocol=channel.protocol)

        return channel

    def _record_message(self, label: str, direction: str, data: Any) -> None:
        """Record one data-channel message. Total: it runs inside aiortc's receive loop, where an
        exception would close the association and end the session, so whatever a peer sends is
        recorded as well as it can be (at worst its size), never raised."""
        try:
            self._record(ev.DC_MESSAGE, label=label, direction=direction, **_message_fields(data))
        except Exception as exc:  # noqa: BLE001 - see the docstring
            logger.debug("data-channel message recorded by size only: %s", type(exc).__name__)
            with contextlib.suppress(Exception):
                size = len(data) if isinstance(data, bytes | bytearray | str) else 0
                self._record(ev.DC_MESSAGE, label=label, direction=direction, size=size,
                             binary=not isinstance(data, str), data="", truncated=True)

    def _record_candidates(self, side: str, sdp: str) -> None:
        try:
            description = parse_description(sdp, f"{side} description")
        except SdpError as exc:  # the capture keeps the text; the failure is aiortc's to report
            self._record(ev.ERROR, phase="signaling", message=f"unparseable {side} description: {exc}")
            return
        for section in description.media:
            for candidate in section.candidates:
                why = ignored_reason(candidate.address) if side == "remote" else None
                self._record(ev.CANDIDATE, side=side, candidate=candidate.to_sdp(), mid=section.mid,
                             mline_index=section.index, **({"ignored": why} if why else {}))
            if section.end_of_candidates:
                self._record(ev.CANDIDATE, side=side, candidate="", mid=section.mid, mline_index=section.index)
        if side == "remote":
            self._remote_candidates = description.candidates
            self._ignored_candidates = [c for c in description.candidates if ignored_reason(c.address)]

    # -- phases ----------------------------------------------------------------------------
    async def _await_media(self, channel: Any) -> None:
        timeouts = self.options.timeouts
        if self._expects_media():
            self._phase("first media")
            try:
                await asyncio.wait_for(self._first_rtp.wait(), timeouts.media)
            except TimeoutError:
                sent = self._collector.packets_sent() if self._collector else 0
                raise ProbeFailure("media", f"no RTP received within {timeouts.media:g} s of connecting "
                                            f"(the probe sent {sent} RTP packets)") from None
        if channel is not None:
            self._phase("data channel")
            try:
                await asyncio.wait_for(self._channel_open.wait(), timeouts.datachannel)
            except TimeoutError:
                raise ProbeFailure("timeout", f"data channel {channel.label!r} did not open within "
                                              f"{timeouts.datachannel:g} s of connecting") from None

    def _expects_media(self) -> bool:
        """Whether the answer says the target sends us RTP."""
        answer = self._pc.remoteDescription if self._pc else None
        if answer is None or not (self.options.audio or self.options.video or receives_only(self.protocol)):
            return False
        if self._answer_sends is None or self._answer_sends[0] != answer.sdp:  # parsed once per answer, not per sample
            description = parse_description(answer.sdp, "answer")
            self._answer_sends = (answer.sdp, any(m.kind in ("audio", "video") and not m.rejected
                                                  and m.direction in ("sendrecv", "sendonly") for m in description.media))
        return self._answer_sends[1]

    async def _steady_state(self) -> None:
        opts = self.options
        end = self.writer.now() + opts.duration
        last_rtp = self.writer.now()
        while (remaining := end - self.writer.now()) > 0:
            try:
                await asyncio.wait_for(self._failed.wait(), min(opts.stats_interval, remaining))
                raise ProbeFailure("ice", f"the connection went {self._pc.connectionState} at "  # type: ignore[union-attr]
                                          f"t={self.writer.now():.1f} s")
            except TimeoutError:
                pass
            with contextlib.suppress(Exception):  # one STUN round trip; a lost check only skips a sample
                await asyncio.wait_for(self._collector.measure_ice_rtt(), 0.5)  # type: ignore[union-attr]
            received = self._sample_stats()
            if received > self.status.packets_received or not self._expects_media():
                last_rtp = self.writer.now()
            self.status.packets_received = received
            if self.writer.now() - last_rtp > opts.timeouts.media:
                raise ProbeFailure("media", f"the peer went silent: no RTP for {opts.timeouts.media:g} s "
                                            f"(last at t={last_rtp:.1f} s)")
            self._publish()

    def _sample_stats(self) -> int:
        """Write one stats event; return packets received so far."""
        if self._collector is None:
            return 0
        reports = self._collector.snapshot(self.writer.now())
        self._record(ev.STATS, reports=reports)
        self.status.update_from_stats(reports, self.writer.now())
        sent = sum(r.get("packetsSent", 0) for r in reports if r.get("type") == "outbound-rtp")
        received = sum(r.get("packetsReceived", 0) for r in reports if r.get("type") == "inbound-rtp")
        rtts = [r["roundTripTime"] for r in reports if r.get("type") == "remote-inbound-rtp" and r.get("roundTripTime")]
        self.status.packets_sent = sent
        self.status.round_trip_time = rtts[-1] if rtts else self.status.round_trip_time
        return received

    def _on_packet_event(self, event: dict[str, Any]) -> None:
        """Events the stats collector derives from packets (rtp_first, rtcp, extensions_seen)."""
        name = event.pop("event")
        if not lite.skipped(self.options.lite, name):
            self._record(name, **event)
        if name == ev.RTP_FIRST and event.get("direction") == "received":
            self._first_rtp.set()

    def _completed_diagnosis(self) -> str:
        s = self.status
        ran = f"session ran {self.options.duration:g} s: {s.packets_sent} RTP packets sent, {s.packets_received} received"
        if self._ignored_candidates:  # it connected, but not on what the target advertised: say so
            ran += (f"; {len(self._ignored_candidates)} non-loopback candidate(s) of the target were ignored "
                    "(loopback target), ICE connected on the target's checks over loopback")
        if self._adapted is not None and self._adapted.summary():
            ran += f"; {self._adapted.summary()}"
        for note in self._patches.notes if self._patches is not None else []:
            ran += f"; {note}"
        return ran

    async def _teardown(self) -> None:
        if self._patches is not None:  # a restart not yet done is cancelled, and said so
            self._patches.cancel()
            self._warnings += self._patches.warnings
        if self._collector is not None and self._writer is not None and not self._writer.closed:
            self._sample_stats()
            for event in self._collector.final_events():
                self._on_packet_event(dict(event))
            if self.options.lite:
                self._record(lite.RTCP_COUNTS, **lite.counts_event(self._collector))
        if self._signaler is not None:
            try:
                self._warnings += await end_at_service(self._signaler, self.options.timeouts.http,
                                                       self._record_unanswered)
            finally:  # also when Ctrl-C comes during the teardown
                self._record_exchanges()
        with contextlib.suppress(Exception):
            await self._blackhole.stop()
        if self._quality is not None:
            await self._quality.close()
        if self._pc is not None:
            with contextlib.suppress(Exception):
                await self._pc.close()
        if self._impairment is not None:  # after the close: its last datagrams crossed the network too
            self._impairment.close()


def _message_fields(data: Any) -> dict[str, Any]:
    """`dc_message` fields; a JSON message also gets its `type`, as realtime events carry one."""
    fields = truncate_message(data)
    if not fields["binary"]:
        # RecursionError: a message nested deeper than json can parse is still recorded, as text
        with contextlib.suppress(ValueError, TypeError, AttributeError, RecursionError):
            kind = json.loads(data).get("type")
            if isinstance(kind, str):  # an event type is a name; anything else is not one
                fields["json_type"] = redact_cut(kind, MESSAGE_TYPE_CHARS)
    return fields

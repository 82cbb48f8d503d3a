"""`serve --voice-agent`: the reference target as a voice agent whose timing is known.

It hears the client's audio through aiortc's receiver track, runs the one VAD (rtcprobe.voice.vad,
hangover = `--vad-silence-ms` S) on it, and S ms after the end of the user's speech waits
`--think-ms` T and speaks its answer (a shipped two-sentence utterance with a pause inside) on its
outbound audio track; the rest of the time that track carries silence frames (never nothing, never
an echo). Speech from the user while it answers cuts the answer (barge-in), as OpenAI's server VAD
does. Realtime-API-shaped events go out on `oai-events` at the moments they happen.

Its truth, per turn, on the target's clock (time.monotonic(), the system-wide CLOCK_MONOTONIC;
`unix_offset` converts to Unix time): in every event's `rtcprobe` field, whole in `response.done`,
and in the log. Instants are packet instants, so they compare with what the probe sees on the wire:

- speech_start_at / speech_end_at: arrival (at the target's DTLS transport) of the first / last
  packet carrying voiced audio. aiortc's audio jitter buffer releases a frame only after 4 more
  have arrived (~80 ms), so each decoded frame is placed at its packet's arrival by RTP timestamp.
- detected_at: arrival of the packet that completed S of silence (≈ speech_end_at + S).
- answer_due_at = speech_end_at + S + T; audio_started_at: the first answer frame handed to the sender
  (the outbound 20 ms grid is shifted to start it on time); first_packet_sent_at: the RTP packet
  carrying it left (matched by RTP timestamp: the Opus encoder may hold a frame back).
- V2V on the wire is therefore first_packet_sent_at + one-way network − speech_end_at's send time
  ≈ S + T + network + packetisation; `v2v_target_ms` = first_packet_sent_at − speech_end_at.
"""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpTransceiver
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, AudioResampler

from ..probe.taps import RTP, SENT, attach_peer_connection, monotonic_clock
from ..voice import utterances
from ..voice.vad import FRAME_MS, FRAME_SAMPLES, RATE, SpeechEvent, StreamingVad, frame_pcm
from .realtime import RealtimeEvents

logger = logging.getLogger(__name__)

FRAME_S = FRAME_MS / 1000
#: Arrival stamps kept per RTP timestamp and per VAD frame: far more than the jitter buffer holds.
KEPT_STAMPS = 4096
#: After a barge-in, how long response.done waits for the last answer packet to leave (one frame
#: is encoded at a time, so it leaves within a frame unless the sender has stopped).
FLUSH_WAIT = 0.2
#: The outbound track resumes at the present when its 20 ms grid is this far behind (a stalled
#: event loop) instead of sending the backlog in a burst: the instants it reports stay the wire's.
MAX_LAG = 0.06


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(10)}"


@dataclass
class AgentTurn:
    """One user turn and the agent's answer to it; instants in time.monotonic() seconds."""

    index: int
    item_id: str
    audio_start_ms: int
    speech_start_at: float
    audio_end_ms: int | None = None
    speech_end_at: float | None = None
    detected_at: float | None = None
    detected_audio_ms: int | None = None  # = audio_end_ms + S, in the received audio's own time
    stopped_event_at: float | None = None  # speech_stopped sent (after the jitter buffer let it out)
    response_id: str | None = None
    answer_due_at: float | None = None
    audio_started_at: float | None = None
    first_packet_sent_at: float | None = None
    audio_stopped_at: float | None = None  # the answer ended: first silent frame handed out, or the cut
    last_packet_sent_at: float | None = None
    barge_in_speech_at: float | None = None  # the interrupting speech's first packet arrived
    barge_in_detected_at: float | None = None  # ... and the agent knew (then it cut the answer)
    status: str = "listening"  # listening, thinking, speaking, completed, cancelled

    def truth(self, unix_offset: float) -> dict[str, Any]:
        out: dict[str, Any] = {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}
        if self.first_packet_sent_at is not None and self.speech_end_at is not None:
            out["v2v_target_ms"] = round(1000 * (self.first_packet_sent_at - self.speech_end_at), 3)
        if self.last_packet_sent_at is not None and self.barge_in_speech_at is not None:
            out["interruption_target_ms"] = round(1000 * (self.last_packet_sent_at - self.barge_in_speech_at), 3)
        out["unix_offset"] = round(unix_offset, 6)
        return out


class VoiceAgent:
    """One session's agent: listens on the received audio track, speaks on `self.voice`."""

    def __init__(self, *, think_ms: float, silence_ms: int, realtime: RealtimeEvents | None,
                 session_id: str = "", answer: utterances.Utterance | None = None) -> None:
        self.think = think_ms / 1000
        self.silence_ms = silence_ms
        self.realtime = realtime
        self.session_id = session_id
        spoken = answer or utterances.answer()
        # the answer from its first voiced frame to its last: no silent padding before or after
        first, last = round(spoken.speech_start / FRAME_S), round(spoken.speech_end / FRAME_S)
        self.answer_frames = spoken.frames()[first:last]
        self.vad = StreamingVad(hangover_ms=silence_ms)
        self.voice = AgentVoice(self)
        self.turns: list[AgentTurn] = []
        self.unix_offset = time.time() - time.monotonic()
        self._pos = 0  # samples of received audio so far
        # (SSRC, RTP timestamp - the SSRC's first) -> arrival: aiortc's receiver makes a decoded
        # frame's pts its RTP timestamp minus the first one (aiortc.rtcrtpreceiver.TimestampMapper)
        self._rtp_arrivals: OrderedDict[tuple[int, int], float] = OrderedDict()
        self._rtp_origins: dict[int, int] = {}
        self._payload_types: set[int] = set()
        self._frame_arrivals: OrderedDict[int, float] = OrderedDict()  # VAD frame index -> arrival
        self._ssrc: int | None = None
        self._sent_ts0: int | None = None
        self._sent_prev = 0
        self._ts_scale: float | None = None
        self._listener: asyncio.Task[None] | None = None
        self._previous_item: str | None = None
        self._pending: list[asyncio.Task[None]] = []
        self._resampler: AudioResampler | None = None
        self.transceiver: RTCRtpTransceiver | None = None  # the m-line it hears and speaks on
        self.speaks = False  # the m-line lets the target send

    # -- wiring --

    def start(self, pc: RTCPeerConnection) -> None:
        """After setRemoteDescription: speak on the m-line and tap the transports for packet instants."""
        if self.transceiver is None:
            return
        if self.speaks:
            self.transceiver.sender.replaceTrack(self.voice)
        self._ssrc = self.transceiver.sender._ssrc
        # the m-line's payload types, as negotiated: another m-line's RTP (video) has other stamps
        self._payload_types = {codec.payloadType for codec in self.transceiver._codecs}
        attach_peer_connection(pc, monotonic_clock(), self._on_packet)

    def listen(self, track: MediaStreamTrack) -> None:
        self._listener = asyncio.ensure_future(self._listen(track))

    def stop(self) -> None:
        for task in [self._listener, *self._pending]:
            if task is not None:
                task.cancel()
        self.voice.stop()

    async def _listen(self, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            while True:
                frame = await track.recv()
                try:
                    self.on_frame(frame, time.monotonic())
                except ValueError as exc:  # not s16/float samples: nothing to measure
                    logger.warning("session %s: voice agent cannot hear this audio: %s", self.session_id, exc)
                    return

    def _on_packet(self, direction: str, kind: str, data: bytes, t: float) -> None:
        if kind != RTP or len(data) < 12:
            return
        now = time.monotonic()  # not `t`: a tap attached earlier keeps its own clock
        ts, ssrc = int.from_bytes(data[4:8], "big"), int.from_bytes(data[8:12], "big")
        if direction != SENT:
            if self._payload_types and data[1] & 0x7F not in self._payload_types:
                return
            origin = self._rtp_origins.setdefault(ssrc, ts)
            self._rtp_arrivals.setdefault((ssrc, (ts - origin) & 0xFFFFFFFF), now)
            while len(self._rtp_arrivals) > KEPT_STAMPS:
                self._rtp_arrivals.popitem(last=False)
            return
        if ssrc != self._ssrc:
            return
        if self._sent_ts0 is None:
            self._sent_ts0 = self._sent_prev = ts  # the first packet carries the track's first frame (pts 0)
        step = (ts - self._sent_prev) & 0xFFFFFFFF
        if self._ts_scale is None and step:  # RTP clock -> 48 kHz pts: 1 for Opus, 6 for G.711's 8 kHz
            self._ts_scale = FRAME_SAMPLES / step
        self._sent_prev = ts
        self.voice.packet_sent(round(((ts - self._sent_ts0) & 0xFFFFFFFF) * (self._ts_scale or 1)), now)

    # -- hearing --

    def on_frame(self, frame: AudioFrame, now: float) -> None:
        """One decoded received frame, handed out by aiortc's jitter buffer at `now`."""
        pcm = self._pcm(frame)
        arrival = self._packet_arrival(frame.pts, now)
        first, end = self._pos // FRAME_SAMPLES, -(-(self._pos + pcm.size) // FRAME_SAMPLES)
        for index in range(first, end):
            self._frame_arrivals[index] = arrival
        while len(self._frame_arrivals) > KEPT_STAMPS:
            self._frame_arrivals.popitem(last=False)
        events = self.vad.push(pcm, self._pos / RATE)
        self._pos += pcm.size
        for event in events:
            self._on_speech(event, now)

    def _pcm(self, frame: AudioFrame) -> np.ndarray:
        """48 kHz mono int16: Opus decodes at 48 kHz; G.711 (PCMU/PCMA) at 8 kHz is resampled."""
        if frame.sample_rate == RATE:
            return frame_pcm(frame)
        if self._resampler is None:
            self._resampler = AudioResampler(format="s16", layout="mono", rate=RATE)
        parts = [out.to_ndarray().reshape(-1) for out in self._resampler.resample(frame)]
        return np.concatenate(parts).astype(np.int16) if parts else np.zeros(0, dtype=np.int16)

    def _packet_arrival(self, pts: int | None, now: float) -> float:
        """When the packet of a decoded frame arrived (`now` if unknown: then late by the jitter buffer)."""
        if pts is None:
            return now
        found = [self._rtp_arrivals.get((ssrc, pts & 0xFFFFFFFF)) for ssrc in self._rtp_origins]
        found = [t for t in found if t is not None and t <= now]
        return min(found) if found else now

    def _arrival(self, audio_t: float, *, frame_end: bool) -> float:
        index = round(audio_t / FRAME_S) - (1 if frame_end else 0)
        return self._frame_arrivals.get(index, time.monotonic())

    def _on_speech(self, event: SpeechEvent, now: float) -> None:
        if event.kind == "start":
            speech_at = self._arrival(event.t, frame_end=False)
            detected = self._arrival(event.known_at, frame_end=True)
            current = self.turns[-1] if self.turns else None
            turn = AgentTurn(len(self.turns) + 1, _id("item"), round(1000 * event.t), speech_at)
            self.turns.append(turn)
            self._send("input_audio_buffer.speech_started", turn, audio_start_ms=turn.audio_start_ms,
                       item_id=turn.item_id)
            if current is not None and current.status in ("thinking", "speaking"):
                current.barge_in_speech_at, current.barge_in_detected_at = speech_at, detected
                self._cancel(current, now)
            return
        turn = self.turns[-1]
        turn.audio_end_ms = round(1000 * event.t)
        turn.detected_audio_ms = round(1000 * event.known_at)
        turn.speech_end_at = self._arrival(event.t, frame_end=True)
        turn.detected_at = self._arrival(event.known_at, frame_end=True)
        turn.stopped_event_at = now
        # S after the end of speech, then T: the rule, on the packets' clock (detection itself comes
        # later, by the jitter buffer's hold; an answer already overdue then starts at once)
        turn.answer_due_at = turn.speech_end_at + self.silence_ms / 1000 + self.think
        turn.response_id = _id("resp")
        turn.status = "thinking"
        self._send("input_audio_buffer.speech_stopped", turn, audio_end_ms=turn.audio_end_ms, item_id=turn.item_id)
        self._send("input_audio_buffer.committed", turn, previous_item_id=self._previous_item, item_id=turn.item_id)
        self._previous_item = turn.item_id
        self._send("response.created", turn, response=self._response(turn, "in_progress"))
        self.voice.schedule(turn, turn.answer_due_at)

    def _cancel(self, turn: AgentTurn, now: float) -> None:
        """Barge-in: the user speaks while the answer is due or playing."""
        speaking = turn.status == "speaking"
        self.voice.cut(now)
        turn.status = "cancelled"
        details = {"type": "cancelled", "reason": "turn_detected"}
        if not speaking:
            self._done(turn, details)
            return
        self._send("output_audio_buffer.cleared", turn, response_id=turn.response_id)
        self._pending.append(asyncio.ensure_future(self._done_when_sent(turn, details)))

    async def _done_when_sent(self, turn: AgentTurn, details: dict[str, str]) -> None:
        """response.done once the last answer packet has left, so its truth holds that instant."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.voice.flushed.wait(), FLUSH_WAIT)
        self._done(turn, details)

    # -- speaking (called by AgentVoice) --

    def answer_started(self, turn: AgentTurn, at: float) -> None:
        turn.audio_started_at = at
        turn.status = "speaking"
        self._send("output_audio_buffer.started", turn, response_id=turn.response_id)

    def answer_finished(self, turn: AgentTurn) -> None:
        turn.status = "completed"
        self._send("output_audio_buffer.stopped", turn, response_id=turn.response_id)
        self._done(turn, None)

    def _done(self, turn: AgentTurn, details: dict[str, str] | None) -> None:
        response = self._response(turn, turn.status)
        response["status_details"] = details
        self._send("response.done", turn, response=response, full=True)
        logger.info("session %s: voice turn %s", self.session_id, turn.truth(self.unix_offset))

    def _response(self, turn: AgentTurn, status: str) -> dict[str, Any]:
        return {"object": "realtime.response", "id": turn.response_id, "status": status,
                "status_details": None, "output": [], "output_modalities": ["audio"], "usage": None}

    def _send(self, event_type: str, turn: AgentTurn, *, full: bool = False, **fields: Any) -> None:
        if self.realtime is None:
            return
        truth = turn.truth(self.unix_offset) if full else {"turn": turn.index}
        truth["at"] = round(time.monotonic(), 6)
        self.realtime.send(event_type, **fields, rtcprobe=truth)


def voice_agent_for(config: Any, directions: dict[RTCRtpTransceiver, str], realtime: RealtimeEvents | None,
                    session_id: str) -> VoiceAgent | None:
    """The session's agent, on its first audio m-line (None without one). `config`: ServerConfig."""
    audio = [t for t in directions if t.kind == "audio"]
    if not audio:
        return None
    agent = VoiceAgent(think_ms=config.think_ms, silence_ms=config.vad_silence_ms, realtime=realtime,
                       session_id=session_id)
    agent.transceiver = audio[0]
    agent.speaks = directions[audio[0]] in ("sendrecv", "sendonly")
    return agent


class AgentVoice(MediaStreamTrack):
    """The agent's outbound audio: 20 ms frames of silence, or of the answer once it is due.
    Paced like aiortc's AudioStreamTrack, except that a due answer starts on time, not on the grid."""

    kind = "audio"

    def __init__(self, agent: VoiceAgent) -> None:
        super().__init__()
        self.agent = agent
        self._start: float | None = None
        self._pts = 0
        self._turn: AgentTurn | None = None  # the answer due or playing
        self._due = 0.0
        self._queue: list[np.ndarray] = []
        self._first_pts = 0  # the answer's first and latest frames handed out (pts = RTP offset)
        self._end_pts = 0
        self._watch: AgentTurn | None = None  # the turn whose packets packet_sent still looks for
        self.flushed = asyncio.Event()  # the watched answer's last handed frame has left
        self._silence = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        self._sent_pts = -1  # RTP offset of the latest packet sent

    def schedule(self, turn: AgentTurn, due: float) -> None:
        self._turn, self._due, self._queue = turn, due, []

    def cut(self, now: float) -> None:
        """Stop the answer now: the next frame is silence."""
        turn, self._turn, self._queue = self._turn, None, []
        if turn is not None and turn.audio_started_at is not None and turn.audio_stopped_at is None:
            turn.audio_stopped_at = now  # the last answer frame handed out may still be on its way out
            if turn.last_packet_sent_at is not None and self._sent_pts >= self._end_pts:
                self.flushed.set()

    def packet_sent(self, rel_ts: int, now: float) -> None:
        """An RTP packet of this track left; `rel_ts` is its timestamp relative to the first one."""
        self._sent_pts = rel_ts
        turn = self._watch
        if turn is None or not self._first_pts <= rel_ts <= self._end_pts:
            return
        if turn.first_packet_sent_at is None:
            turn.first_packet_sent_at = now
        turn.last_packet_sent_at = now
        if rel_ts == self._end_pts and turn.audio_stopped_at is not None:  # cut or finished: all sent
            self._watch = None
            self.flushed.set()

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        now = time.monotonic()
        speaking = self._turn is not None and self._turn.audio_started_at is not None
        if self._start is None or (not speaking and now - (self._start + self._pts / RATE) > MAX_LAG):
            # behind (a busy loop) in silence: resume now rather than burst; an answer keeps its pace
            self._start = now - self._pts / RATE
        slot = self._start + self._pts / RATE
        starting = self._turn is not None and not self._queue and self._turn.audio_started_at is None
        if starting and self._due < slot:  # start the answer on time: shift the grid to it
            slot = max(self._due, now)
            self._start = slot - self._pts / RATE
        if slot > now:
            await asyncio.sleep(slot - now)
        samples = self._next_samples(time.monotonic())
        frame = AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = RATE
        frame.pts = self._pts
        frame.time_base = fractions.Fraction(1, RATE)
        self._pts += FRAME_SAMPLES
        return frame

    def _next_samples(self, now: float) -> np.ndarray:
        turn = self._turn
        if turn is None or now < self._due - 1e-3:
            return self._silence
        if turn.audio_started_at is None:
            self._queue = list(self.agent.answer_frames)
            self._first_pts, self._watch = self._pts, turn
            self.flushed.clear()
            self.agent.answer_started(turn, now)
        if self._queue:
            self._end_pts = self._pts
            return self._queue.pop(0)
        self._turn = None  # the answer has been sent: this frame is the first silent one
        turn.audio_stopped_at = now
        self.agent.answer_finished(turn)
        return self._silence

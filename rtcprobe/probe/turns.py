"""Scripted turns (``capture --turns N``): speak an utterance, stay silent and listen until the
agent's answer has ended (or ``--listen-timeout``), then speak the next; one ``voice_turn`` event
per turn, with voice-to-voice latency and its breakdown (rtcprobe.analyze.voice).

Between utterances the probe sends digital silence, as a muted microphone does in a browser
(aiortc's Opus encoder has no DTX, so a DTX-negotiated session still gets silence frames).
User speech start/end are the send times of the RTP packets that carried the first and last
voiced 20 ms of the utterance (its speech boundaries found once, when loaded, by the one VAD).

Barge-in (``--barge-in MS``): MS after the agent's speech started arriving, the probe speaks the
next utterance over it, and the turn records how long the agent went on sending speech:
interruption_ms = arrival of the agent's last voiced packet - send time of the barge-in's first
voiced packet (it includes the network both ways and the agent's own speech detection).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..analyze.voice import SERVER_EVENTS, breakdown
from ..capture import events as ev
from ..voice import utterances as utt
from ..voice.vad import HANGOVER_MS, RATE
from .media import AudioSource
from .voice_observer import VoiceObserver

#: Seconds of silence before the first utterance: the agent's greeting, if any, is not a turn.
LEAD_IN_S = 1.0


@dataclass
class TurnOptions:
    turns: int = 0
    utterances: list[str] | None = None  # WAV files or directories; None: the shipped utterances
    listen_timeout: float = 10.0
    barge_in_ms: float | None = None


class ScriptedSource(AudioSource):
    """Silence, except when an utterance is playing; `speak` starts one at the next frame."""

    def __init__(self, realtime: bool = True) -> None:
        super().__init__(realtime)
        self._pcm = np.zeros(0, dtype=np.int16)
        self._at = 0  # first sample of the utterance on the source's clock (pts)
        self.produced = 0  # samples produced so far
        self.produced_event = asyncio.Event()

    def speak(self, pcm: np.ndarray) -> int:
        """Play `pcm` from the next frame on; returns its first sample's pts."""
        self._at = self.produced
        self._pcm = pcm
        return self._at

    def samples(self, first: int, count: int) -> np.ndarray:
        out = np.zeros(count, dtype=np.int16)
        lo, hi = max(first, self._at), min(first + count, self._at + self._pcm.size)
        if hi > lo:
            out[lo - first:hi - first] = self._pcm[lo - self._at:hi - self._at]
        self.produced = first + count
        self.produced_event.set()
        return out


class TurnScript:
    """Runs the turns alongside the session's steady state and records them."""

    def __init__(self, options: TurnOptions, clock: Callable[[], float], record: Callable[..., None],
                 rtt: Callable[[], float | None]) -> None:
        self.options = options
        self.clock = clock
        self.record = record
        self.rtt = rtt
        self.utterances = utt.load_many(options.utterances) if options.utterances else utt.shipped("user")
        self.source = ScriptedSource()
        self.observer: VoiceObserver | None = None
        self.server_events: list[tuple[str, float]] = []  # (type, arrival) of oai-events messages
        self.rtts: list[float] = []  # RTT samples as they change (the session measures one per stats interval)
        self.done = 0

    def bind(self, transceiver: Any) -> VoiceObserver:
        self.observer = VoiceObserver(self.clock, transceiver)
        return self.observer

    def on_message(self, data: Any) -> None:
        """A data-channel message the session received: a realtime event of a turn is noted with
        its arrival time (anything else, or anything unreadable, is none of the script's business)."""
        if not isinstance(data, str) or len(data) > 1_000_000:
            return
        with contextlib.suppress(ValueError, TypeError, AttributeError, RecursionError):
            kind = json.loads(data).get("type")
            if kind in SERVER_EVENTS:
                self.server_events.append((kind, self.clock()))

    async def run_alongside(self, steady: Callable[[], Awaitable[None]]) -> None:
        """The turns, while `steady` (the session's stats loop, one --duration per call) runs;
        a failure of either ends both."""
        turns = asyncio.ensure_future(self.run())

        async def sampling() -> None:
            while not turns.done():
                await steady()

        stats = asyncio.ensure_future(sampling())
        try:
            done, _ = await asyncio.wait({turns, stats}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a failure of either (ProbeFailure) ends the session
            await turns
        finally:
            for task in (turns, stats):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            if self.observer is not None:
                await self.observer.close()

    async def run(self) -> None:
        sampler = asyncio.ensure_future(self._sample_rtt())
        try:
            await asyncio.sleep(LEAD_IN_S)
            for index in range(self.options.turns):
                await self.turn(index, self.utterances[index % len(self.utterances)])
                self.done += 1
        finally:
            sampler.cancel()

    async def _sample_rtt(self) -> None:
        """Every new RTT sample: a turn uses the median of those taken during it (one STUN check
        on a busy peer can take 10x the path's RTT)."""
        last = None
        while True:
            value = self.rtt()
            if value is not None and value != last:
                self.rtts.append(value)
                last = value
            await asyncio.sleep(0.1)

    async def _speak(self, utterance: utt.Utterance) -> tuple[int, int]:
        """Start the utterance; (pts of its first voiced sample, pts of its last voiced sample)."""
        at = self.source.speak(utterance.pcm)
        start = at + round((utterance.speech_start or 0.0) * RATE)
        end = at + round((utterance.speech_end or utterance.duration) * RATE) - 1
        return start, end

    async def _sent(self, pts: int, patience: float = 2.0) -> float | None:
        """The send time of the packet carrying `pts`, once the source produced it and it left."""
        obs = self.observer
        assert obs is not None
        limit = self.clock() + pts / RATE - self.source.produced / RATE + patience
        await obs.wait(lambda: obs.sent_at(pts) is not None, limit)
        return obs.sent_at(pts)

    async def turn(self, index: int, utterance: utt.Utterance) -> None:
        obs = self.observer
        assert obs is not None, "bind() the observer before running turns"
        first_event, first_rtt = len(self.server_events), len(self.rtts)
        start_pts, end_pts = await self._speak(utterance)
        user_start = await self._sent(start_pts)
        user_end = await self._sent(end_pts)
        fields: dict[str, Any] = {"index": index, "utterance": utterance.name,
                                  "barge_in_ms": self.options.barge_in_ms,
                                  "user_speech_start": user_start, "user_speech_end": user_end}
        unmeasured: dict[str, str] = {}
        listen_until = (user_end if user_end is not None else self.clock()) + self.options.listen_timeout
        after = user_end if user_end is not None else self.clock()
        await obs.wait(lambda: obs.speech_after("start", after) is not None, listen_until)
        start = obs.speech_after("start", after)
        agent_start = start.t if start is not None else None
        if start is not None and self.options.barge_in_ms is not None:
            fields.update(await self._barge_in(index, start.t, listen_until, unmeasured))
        elif start is not None:
            await obs.wait(lambda: obs.speech_after("end", start.t) is not None, listen_until)
        end = obs.speech_after("end", start.t) if start is not None else None
        if start is not None and end is None:
            unmeasured["agent_speech_end"] = (f"the agent was still speaking {self.options.listen_timeout:g} s "
                                              "after the user's speech ended (--listen-timeout)")
        first_packet = obs.first_packet(after, agent_start) if agent_start is not None else None
        events: dict[str, float] = {}
        for kind, t in self.server_events[first_event:]:
            events.setdefault(kind, t)
        samples = self.rtts[first_rtt:] or self.rtts[-1:]
        rtt = statistics.median(samples) if samples else None
        parts, why = breakdown(user_end, first_packet, agent_start, rtt, events)
        unmeasured.update(why)
        fields.update(parts, answered=agent_start is not None, agent_first_packet=first_packet,
                      agent_speech_start=agent_start, agent_speech_end=end.t if end is not None else None,
                      server_events={k: round((t - after) * 1000, 3) for k, t in events.items()})
        if unmeasured:
            fields["unmeasured"] = unmeasured
        self.record(ev.VOICE_TURN, **{k: round(v, 6) if isinstance(v, float) else v for k, v in fields.items()})
        # the next turn starts after the agent's last word and a pause a user would leave
        await asyncio.sleep(HANGOVER_MS / 1000)

    async def _barge_in(self, index: int, agent_start: float, until: float,
                        unmeasured: dict[str, str]) -> dict[str, Any]:
        """Speak over the agent MS after its speech started; how long it went on speaking."""
        obs = self.observer
        assert obs is not None and self.options.barge_in_ms is not None
        wait = agent_start + self.options.barge_in_ms / 1000 - self.clock()
        if wait > 0:
            await asyncio.sleep(wait)
        barge = self.utterances[(index + 1) % len(self.utterances)]
        start_pts, _ = await self._speak(barge)
        barge_start = await self._sent(start_pts)
        out: dict[str, Any] = {"barge_in_start": barge_start, "agent_stop": None, "interruption_ms": None}
        if barge_start is None:
            unmeasured["interruption_ms"] = "the barge-in's speech was not seen leaving"
            return out
        await obs.wait(lambda: obs.speech_after("end", agent_start) is not None, until)
        end = obs.speech_after("end", agent_start)
        if end is None:
            unmeasured["interruption_ms"] = "the agent did not stop speaking before the listen timeout"
        elif end.t < barge_start:
            unmeasured["interruption_ms"] = "the agent had stopped speaking before the barge-in started"
        else:
            out.update(agent_stop=end.t, interruption_ms=round((end.t - barge_start) * 1000, 3))
        # let the barge-in utterance finish before the next turn
        await asyncio.sleep(max(0.0, barge.duration - (self.clock() - barge_start)))
        return out


def turn_script(options: Any, clock: Callable[[], float], record: Callable[..., None],
                rtt: Callable[[], float | None]) -> TurnScript | None:
    """The script of `ProbeOptions` (turns, utterances, listen_timeout, barge_in_ms); None without --turns."""
    if not getattr(options, "turns", 0):
        return None
    return TurnScript(TurnOptions(options.turns, options.utterances or None, options.listen_timeout,
                                  options.barge_in_ms), clock, record, rtt)


def session_rtt(collector: Any, status: Any) -> float | None:
    """The freshest round-trip time of the session: the last ICE check's (a STUN round trip every
    stats interval, StatsCollector.measure_ice_rtt), else the last RTCP one (SR/RR, sparser)."""
    ice = list(getattr(collector, "_ice_rtt", {}).values()) if collector is not None else []
    return ice[-1] if ice else status.round_trip_time

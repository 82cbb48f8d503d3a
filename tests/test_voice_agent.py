"""`serve --voice-agent` on a real session: an aiortc client on 127.0.0.1 speaks the shipped
utterances into it; the agent answers S + T after the end of the speech (its own truth, and an
independent check on the client: last speech packet handed out -> first non-silent answer packet
received), its realtime events come in order with OpenAI's shapes and its truth instants, and
speech while it answers cuts the answer."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from test_signaling import WAIT, Client, connect, peer_connections, reference_targets

from rtcprobe.probe.media import AudioSource
from rtcprobe.probe.taps import RECEIVED, RTP, attach_peer_connection, monotonic_clock
from rtcprobe.server import ServerConfig, add_serve_arguments, config_from_args
from rtcprobe.signaling import make_signaler
from rtcprobe.voice import utterances
from rtcprobe.voice.vad import FRAME_MS, FRAME_SAMPLES

serve = pytest.fixture(name="serve")(reference_targets)
clients = pytest.fixture(name="clients")(peer_connections)

FRAME = FRAME_MS / 1000
#: Loopback, one machine: the client's and the agent's views of the same packets agree this well.
AGREE_S = 0.040
#: Decoded Opus of digital silence stays far below this; the answer's speech does not.
AUDIBLE = 200

TURN_EVENTS = ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
               "input_audio_buffer.committed", "response.created", "output_audio_buffer.started",
               "output_audio_buffer.stopped", "response.done"]


class Speaker(AudioSource):
    """The client's microphone: silence, or an utterance from the next frame on. Remembers when
    it handed out the frame carrying the utterance's last voiced audio (aiortc encodes and sends
    each 20 ms frame as one packet as soon as it is handed out)."""

    def __init__(self) -> None:
        super().__init__()
        self._frames: list[np.ndarray] = []
        self._last_voiced = -1
        self.speech_end_sent: float | None = None
        self.done = asyncio.Event()

    def say(self, utterance: utterances.Utterance) -> None:
        self._frames = utterance.frames()
        self._last_voiced = round(utterance.speech_end / FRAME) - 1
        self.speech_end_sent = None
        self.done.clear()

    def samples(self, first: int, count: int) -> np.ndarray:
        if not self._frames:
            return np.zeros(count, dtype=np.int16)
        if self._last_voiced == 0:
            self.speech_end_sent = time.monotonic()
        self._last_voiced -= 1
        frame = self._frames.pop(0)
        if not self._frames:
            self.done.set()
        return frame


@dataclass
class Ear:
    """The client's independent check: decoded received audio, placed at its packet's arrival."""

    arrivals: dict[int, float] = field(default_factory=dict)  # pts (RTP timestamp - the first) -> arrival
    first_ts: int | None = None  # the client receives one RTP stream: the agent's audio
    audible: list[float] = field(default_factory=list)  # arrival of each audible received frame

    def on_packet(self, direction: str, kind: str, data: bytes, t: float) -> None:
        if direction == RECEIVED and kind == RTP:
            ts = int.from_bytes(data[4:8], "big")
            if self.first_ts is None:
                self.first_ts = ts
            self.arrivals.setdefault((ts - self.first_ts) & 0xFFFFFFFF, time.monotonic())

    async def listen(self, track: Any) -> None:
        while True:
            frame = await track.recv()
            if int(np.abs(frame.to_ndarray().astype(np.int32)).max()) > AUDIBLE:
                self.audible.append(self.arrivals.get(frame.pts & 0xFFFFFFFF, time.monotonic()))

    def first_audible_after(self, t: float) -> float | None:
        return next((a for a in self.audible if a > t), None)

    def last_audible_before(self, t: float) -> float | None:
        return max((a for a in self.audible if a < t), default=None)


async def _agent_session(serve: Any, clients: list[Any], video: str | None = None,
                         **config: Any) -> tuple[Any, Client, Speaker, Ear]:
    target = await serve(voice_agent=True, **config)
    speaker = Speaker()
    client = await connect(make_signaler("openai", target.url("/v1/realtime/calls")), clients,
                           audio_track=speaker, video=video)
    ear = Ear()
    attach_peer_connection(client.pc, monotonic_clock(), ear.on_packet)
    await asyncio.wait_for(client.connected.wait(), WAIT)
    listener = asyncio.ensure_future(ear.listen(await client.track("audio")))
    clients.append(_Cancel(listener))  # stopped with the peer connections
    await client.next_event("session.created")
    return target, client, speaker, ear


@dataclass
class _Cancel:
    task: asyncio.Task[None]

    async def close(self) -> None:
        self.task.cancel()


async def _turn_events(client: Client, last: str = "response.done") -> list[dict[str, Any]]:
    events = []
    while not events or events[-1]["type"] != last:
        event = await client.next_message()
        events.append(json.loads(event))
    return events


@pytest.mark.slow
@pytest.mark.parametrize("think_ms, silence_ms", [(300, 500), (900, 300)])
async def test_agent_answers_after_silence_plus_think(serve, clients, think_ms: int, silence_ms: int) -> None:
    target, client, speaker, ear = await _agent_session(serve, clients, think_ms=think_ms,
                                                       vad_silence_ms=silence_ms)
    answer = utterances.answer()
    for utterance in utterances.shipped("user")[:2]:
        speaker.say(utterance)
        events = await _turn_events(client)
        assert [e["type"] for e in events] == TURN_EVENTS
        started, stopped, committed, created, audio_on, audio_off, done = events
        item = started["item_id"]
        assert stopped["item_id"] == committed["item_id"] == item
        assert started["event_id"].startswith("event_") and item.startswith("item_")
        response_id = created["response"]["id"]
        assert audio_on["response_id"] == audio_off["response_id"] == done["response"]["id"] == response_id
        assert created["response"]["status"] == "in_progress"
        assert done["response"]["status"] == "completed"
        assert done["response"]["object"] == "realtime.response"

        truth = done["rtcprobe"]
        # in the received audio's own time: the end was known exactly S after it
        assert truth["detected_audio_ms"] - truth["audio_end_ms"] == silence_ms == truth["detected_audio_ms"] - stopped["audio_end_ms"]
        assert started["audio_start_ms"] < stopped["audio_end_ms"]
        # on the agent's clock: the answer was due S + T after the end of speech, and not sent before
        due = truth["answer_due_at"] - truth["speech_end_at"]
        assert due == pytest.approx((silence_ms + think_ms) / 1000, abs=1e-5)
        assert truth["audio_started_at"] >= max(truth["answer_due_at"], truth["stopped_event_at"]) - 1e-3
        assert truth["first_packet_sent_at"] >= truth["audio_started_at"]
        assert truth["v2v_target_ms"] >= silence_ms + think_ms - 1
        # all of the answer, its pause included, went out as one answer
        played = truth["audio_stopped_at"] - truth["audio_started_at"]
        assert played == pytest.approx(answer.speech_end - answer.speech_start, abs=2 * AGREE_S)
        # the events went out at their moments
        assert started["rtcprobe"]["at"] <= stopped["rtcprobe"]["at"] <= created["rtcprobe"]["at"]
        assert audio_on["rtcprobe"]["at"] == pytest.approx(truth["audio_started_at"], abs=0.005)
        assert audio_off["rtcprobe"]["at"] >= truth["audio_stopped_at"] - 1e-3

        # the client's own view: last speech packet out -> first audible answer packet in
        heard = ear.first_audible_after(speaker.speech_end_sent)
        assert heard is not None
        client_v2v = heard - speaker.speech_end_sent
        # the agent's VAD hears the end in decoded Opus, where the last 6.5 ms of speech come out in
        # the next frame (test_voice_vad): its end is up to one packet after the source's
        assert -AGREE_S <= client_v2v - truth["v2v_target_ms"] / 1000 <= FRAME + AGREE_S
        assert heard == pytest.approx(truth["first_packet_sent_at"], abs=AGREE_S)

    [session] = target.sessions.values()
    assert [t.status for t in session.voice_agent.turns] == ["completed", "completed"]


@pytest.mark.slow
async def test_barge_in_cuts_the_answer(serve, clients) -> None:
    target, client, speaker, ear = await _agent_session(serve, clients, think_ms=200, vad_silence_ms=400)
    first, second = utterances.shipped("user")[:2]
    speaker.say(first)
    events = await _turn_events(client, "output_audio_buffer.started")
    await asyncio.sleep(0.6)  # into the answer's first sentence
    speaker.say(second)
    cut = await _turn_events(client, "response.done")
    assert [e["type"] for e in cut] == ["input_audio_buffer.speech_started", "output_audio_buffer.cleared",
                                        "response.done"]
    barge, cleared, done = cut
    response_id = events[-1]["response_id"]
    assert cleared["response_id"] == done["response"]["id"] == response_id
    assert done["response"]["status"] == "cancelled"
    assert done["response"]["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
    truth = done["rtcprobe"]
    assert truth["status"] == "cancelled"
    assert truth["barge_in_speech_at"] <= truth["barge_in_detected_at"] <= cleared["rtcprobe"]["at"]
    assert truth["audio_stopped_at"] - truth["audio_started_at"] < utterances.answer().duration / 2
    assert truth["last_packet_sent_at"] >= truth["first_packet_sent_at"]
    assert truth["interruption_target_ms"] > 0

    # the client's view: the last audible answer packet before the second turn's answer
    second_turn = await _turn_events(client)
    assert [e["type"] for e in second_turn] == TURN_EVENTS[1:]  # speech_started came with the cut
    assert second_turn[-1]["response"]["status"] == "completed"
    last_heard = ear.last_audible_before(second_turn[-1]["rtcprobe"]["audio_started_at"])
    # heard until the agent stopped, then only the decoder's ring-down: the packet after the last
    # answer packet still holds its last 6.5 ms (Opus look-ahead). The bound is loose (a loaded
    # machine delays the client's stamps); what it checks is that the rest of the answer, over a
    # second of speech, never came.
    rest = truth["audio_started_at"] + utterances.answer().duration - truth["audio_stopped_at"]
    assert rest > 1.0
    assert truth["last_packet_sent_at"] - AGREE_S <= last_heard <= truth["last_packet_sent_at"] + 0.25
    [session] = target.sessions.values()
    assert [t.status for t in session.voice_agent.turns] == ["cancelled", "completed"]


@pytest.mark.slow
async def test_speech_while_thinking_cancels_the_answer_before_any_audio(serve, clients) -> None:
    target, client, speaker, ear = await _agent_session(serve, clients, think_ms=3000, vad_silence_ms=300)
    first, second = utterances.shipped("user")[:2]
    speaker.say(first)
    await _turn_events(client, "response.created")
    speaker.say(second)
    cut = await _turn_events(client, "response.done")
    assert [e["type"] for e in cut] == ["input_audio_buffer.speech_started", "response.done"]
    done = cut[-1]
    assert done["response"]["status"] == "cancelled"
    assert done["rtcprobe"]["audio_started_at"] is None and done["rtcprobe"]["first_packet_sent_at"] is None
    assert ear.audible == []  # nothing but silence came back
    [session] = target.sessions.values()
    assert [t.status for t in session.voice_agent.turns] == ["cancelled", "listening"]


@pytest.mark.slow
@pytest.mark.parametrize("options", [{"audio_codecs": ["PCMU"]}, {"video": "sendrecv"}], ids=["pcmu", "with-video"])
async def test_agent_over_g711_and_next_to_video(serve, clients, options: dict[str, Any]) -> None:
    """G.711 decodes at 8 kHz: the agent resamples what it hears and is heard through it. Next to a
    video m-line (echoed as usual) its packet instants are its audio's own."""
    target, client, speaker, ear = await _agent_session(serve, clients, think_ms=100, vad_silence_ms=300,
                                                       **options)
    speaker.say(utterances.shipped("user")[2])
    events = await _turn_events(client)
    assert [e["type"] for e in events] == TURN_EVENTS
    truth = events[-1]["rtcprobe"]
    assert truth["status"] == "completed" and truth["detected_audio_ms"] - truth["audio_end_ms"] == 300
    assert ear.first_audible_after(speaker.speech_end_sent) == pytest.approx(truth["first_packet_sent_at"], abs=AGREE_S)


def test_voice_agent_flags_map_onto_the_config() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    config = config_from_args(parser.parse_args(["--voice-agent", "--think-ms", "900", "--vad-silence-ms", "300"]))
    assert (config.voice_agent, config.think_ms, config.vad_silence_ms) == (True, 900.0, 300)
    assert ServerConfig().voice_agent is False


@pytest.mark.parametrize("kwargs, message", [
    ({"think_ms": -1}, "think ms: expected 0..60000"),
    ({"vad_silence_ms": 10}, "VAD silence ms: expected 20..10000"),
])
def test_bad_voice_agent_knobs_are_one_line(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ServerConfig(voice_agent=True, **kwargs)


def test_frames_cover_the_answer_from_first_to_last_voiced_frame() -> None:
    from rtcprobe.server.voice_agent import VoiceAgent

    answer = utterances.answer()
    agent = VoiceAgent(think_ms=0, silence_ms=500, realtime=None)
    sent = np.concatenate(agent.answer_frames)
    start = round(answer.speech_start / FRAME) * FRAME_SAMPLES
    assert np.array_equal(sent, answer.pcm[start:start + sent.size])
    assert sent.size / 48000 == pytest.approx(answer.speech_end - answer.speech_start, abs=1e-9)

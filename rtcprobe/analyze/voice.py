"""Voice-to-voice latency of scripted turns (``capture --turns``): the breakdown of one turn, and
the turns of a capture with their distribution.

One turn, on the probe's clock (all instants are packet times at the probe)::

    user_speech_end ──(RTT/2 up)── server hears the end ──turn detection── speech_stopped
        ──server time to first audio── first answer packet leaves ──(RTT/2 down)──
        first packet arrives ──silent padding── first audible audio arrives (agent_speech_start)

so v2v = turn_detection + server_first_audio + network + silent_padding exactly, with network =
RTT (the median of the turn's ICE-check samples; RTT/2 each way: the one-way delays cannot be told apart without synchronised clocks). A
realtime event is placed on the server's clock at its arrival minus RTT/2. Without
`input_audio_buffer.speech_stopped` the server's share is one number, server_side (turn detection
+ time to first audio). The probe writes these fields into each ``voice_turn`` event with
`breakdown`; the summary below only reads events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..capture import Capture
from ..capture import events as ev
from .distribution import Distribution, distribution

#: The realtime events placed on the turn's clock, in the order a turn produces them.
SERVER_EVENTS = (
    "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped", "input_audio_buffer.committed",
    "response.created", "output_audio_buffer.started", "response.output_audio.delta", "response.audio.delta",
    "output_audio_buffer.stopped", "output_audio_buffer.cleared", "response.done",
)
SPEECH_STOPPED = "input_audio_buffer.speech_stopped"

#: Breakdown parts, in the order of the turn (their sum is v2v when all are measured).
PARTS = ("turn_detection_ms", "server_first_audio_ms", "network_ms", "silent_padding_ms")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def breakdown(user_end: float | None, first_packet: float | None, agent_start: float | None,
              rtt: float | None, events: dict[str, float]) -> tuple[dict[str, float | None], dict[str, str]]:
    """(fields, unmeasured) of one turn: v2v_ms and its parts, from capture-clock instants and the
    arrival times of the service's events (`events`: type -> first arrival in the turn)."""
    out: dict[str, float | None] = {name: None for name in (
        "v2v_ms", "first_packet_ms", "server_side_ms", "rtt_ms", *PARTS)}
    why: dict[str, str] = {}
    if rtt is not None:
        out["rtt_ms"] = _ms(rtt)
    if user_end is None:
        why["v2v_ms"] = "the end of the user's speech was not seen on the wire"
        return out, why
    if agent_start is None:
        why["v2v_ms"] = "no answer: the agent sent no audible audio before the listen timeout"
        return out, why
    out["v2v_ms"] = _ms(agent_start - user_end)
    if first_packet is not None:
        out["first_packet_ms"] = _ms(first_packet - user_end)
        out["silent_padding_ms"] = _ms(agent_start - first_packet)
    else:
        why["first_packet_ms"] = "no answer packet before the first audible audio could be told apart"
    if rtt is None:
        why["network_ms"] = "no RTT measured (no ICE check answer and no RTCP receiver report with DLSR)"
        return out, why
    out["network_ms"] = _ms(rtt)
    if first_packet is not None:
        out["server_side_ms"] = _ms(first_packet - user_end - rtt)
    stopped = events.get(SPEECH_STOPPED)
    if stopped is None:
        why["turn_detection_ms"] = f"the service sent no {SPEECH_STOPPED} on the data channel"
    elif first_packet is not None:
        out["turn_detection_ms"] = _ms(stopped - user_end - rtt)  # (arrival - RTT/2) - (end + RTT/2)
        out["server_first_audio_ms"] = _ms(first_packet - stopped)  # (first - RTT/2) - (arrival - RTT/2)
    return out, why


@dataclass(frozen=True)
class VoiceSummary:
    """The turns of one capture (each a ``voice_turn`` event as written) and their distributions."""

    turns: list[dict[str, Any]]
    answered: int
    unanswered: int
    v2v: Distribution
    first_packet: Distribution
    interruption: Distribution
    parts: dict[str, Distribution] = field(default_factory=dict)  # PARTS -> distribution over turns

    @property
    def empty(self) -> bool:
        return not self.turns


def voice_summary(capture: Capture) -> VoiceSummary:
    """V2V p50/p90/max over the answered turns, the breakdown's medians, barge-in stops."""
    turns = [{k: v for k, v in e.items() if k != "event"} for e in capture.of(ev.VOICE_TURN)]
    answered = [t for t in turns if t.get("answered") and t.get("v2v_ms") is not None]

    def values(name: str) -> list[float]:
        return [t[name] for t in answered if isinstance(t.get(name), int | float)]

    interruptions = [t["interruption_ms"] for t in turns if isinstance(t.get("interruption_ms"), int | float)]
    return VoiceSummary(turns=turns, answered=len(answered), unanswered=len(turns) - len(answered),
                        v2v=distribution(values("v2v_ms")), first_packet=distribution(values("first_packet_ms")),
                        interruption=distribution(interruptions),
                        parts={name: distribution(values(name)) for name in PARTS})

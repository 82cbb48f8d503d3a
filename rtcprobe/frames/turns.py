"""`Capture.turns()`: one row per scripted voice turn (``capture --turns``), as the probe wrote it."""

from __future__ import annotations

import pandas as pd

from ..analyze.voice import voice_summary
from ..capture import Capture
from ._schema import BOOL, FLOAT, INT, OBJECT, TEXT, TIME, Column, Schema, build

_CLOCK = "capture clock (s); missing when not measured"
COLUMNS: Schema = {
    "t": Column(FLOAT, "when the turn was recorded (after its answer ended or the listen timeout)"),
    "wall_clock": Column(TIME, "wall-clock instant of t (UTC)"),
    "index": Column(INT, "turn number, from 0"),
    "utterance": Column(TEXT, "what the probe said (the WAV's name)"),
    "answered": Column(BOOL, "the agent sent audible audio after the user's speech end, before the listen timeout"),
    "user_speech_start": Column(FLOAT, f"send time of the first RTP packet of the utterance's speech; {_CLOCK}"),
    "user_speech_end": Column(FLOAT, f"send time of the last RTP packet of the utterance's speech; {_CLOCK}"),
    "agent_first_packet": Column(FLOAT, f"arrival of the answer's first audio packet; {_CLOCK}"),
    "agent_speech_start": Column(FLOAT, f"arrival of the answer's first voiced audio; {_CLOCK}"),
    "agent_speech_end": Column(FLOAT, f"arrival of the answer's last voiced audio (500 ms hangover); {_CLOCK}"),
    "v2v_ms": Column(FLOAT, "voice to voice: agent_speech_start - user_speech_end (ms); missing when unanswered"),
    "first_packet_ms": Column(FLOAT, "agent_first_packet - user_speech_end (ms): what a jitter buffer sees"),
    "turn_detection_ms": Column(FLOAT, "the service's speech_stopped (arrival - RTT/2) - user end at the service (ms)"),
    "server_first_audio_ms": Column(FLOAT, "speech_stopped -> the answer's first packet leaving the service (ms)"),
    "server_side_ms": Column(FLOAT, "turn detection + server time to first audio, without the service's events (ms)"),
    "network_ms": Column(FLOAT, "RTT: RTT/2 for the user's end going up + RTT/2 for the answer coming down (ms)"),
    "silent_padding_ms": Column(FLOAT, "first answer packet -> first voiced audio (ms)"),
    "rtt_ms": Column(FLOAT, "round-trip time used (ICE check, else RTCP), ms"),
    "barge_in_ms": Column(FLOAT, "--barge-in: the probe spoke again this long after the answer started (ms)"),
    "barge_in_start": Column(FLOAT, f"send time of the barge-in's first voiced packet; {_CLOCK}"),
    "agent_stop": Column(FLOAT, f"arrival of the agent's last voiced audio after the barge-in; {_CLOCK}"),
    "interruption_ms": Column(FLOAT, "agent_stop - barge_in_start (ms): how long the agent went on speaking"),
    "server_events": Column(OBJECT, "{realtime event type: ms after user_speech_end (arrival)}"),
    "unmeasured": Column(OBJECT, "{field: why it was not measured}"),
}


def turns(capture: Capture) -> pd.DataFrame:
    return build(capture, voice_summary(capture).turns, COLUMNS)

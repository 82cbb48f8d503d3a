"""What a probe run is asked to do. The CLI maps flags 1:1 onto these fields."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .ice_servers import IceConfig


@dataclass
class PhaseTimeouts:
    """Seconds each phase may take before the capture ends with reason `timeout` (or the phase's own)."""

    http: float = 15.0
    ice: float = 10.0
    dtls: float = 10.0
    media: float = 5.0
    datachannel: float = 10.0


@dataclass
class ProbeOptions:
    target: str
    output: Path
    protocol: str | None = None  # guessed from the URL when None
    token: str | None = None  # never written anywhere; see rtcprobe.redact
    audio: str | None = "tone"  # "tone", "tone:440", "silence", "wav:PATH", or None for no audio
    audio_codec: str = "opus"  # opus, pcmu, pcma
    video: bool = False
    video_size: tuple[int, int] = (1920, 1080)
    fps: float = 1.0
    datachannel: str | None = None  # label; openai protocols always open `oai-events`
    send: list[str] = field(default_factory=list)  # messages sent once the channel is open
    duration: float = 5.0
    stats_interval: float = 1.0
    timeouts: PhaseTimeouts = field(default_factory=PhaseTimeouts)
    ice: IceConfig = field(default_factory=IceConfig)  # STUN/TURN servers and policy; none by default
    model: str | None = None
    session: dict[str, Any] | None = None  # realtime session config (openai protocols)
    offer_format: str = "sdp"  # sdp-post: "sdp" or "json"
    offer: str = "chrome"  # offer profile (rtcprobe.profiles): chrome, firefox, safari, aiortc, or a path
    simulcast: int = 0  # RID layers offered on the video m-line (2 or 3; rtcprobe.probe.simulcast); 0: none
    impair: list[str] = field(default_factory=list)  # SPECs (rtcprobe.net.spec); with at=, a schedule entry
    impair_schedule: str | None = None  # a schedule file (rtcprobe.net.spec.parse_schedule)
    seed: int = 0  # seeds the impairment: the same seed and the same datagrams give the same drops
    turns: int = 0  # scripted voice turns (rtcprobe.probe.turns); 0: none, the audio source speaks
    utterances: list[str] = field(default_factory=list)  # WAV files or directories; empty: the shipped ones
    listen_timeout: float = 10.0  # seconds after the user's speech end without an answer: no answer
    barge_in_ms: float | None = None  # speak again this long after the agent's answer started
    trickle: bool = False  # WHIP/WHEP: PATCH a=end-of-candidates after the answer (RFC 9725 §4.3)
    ice_restart_at: float | None = None  # WHIP/WHEP: ICE restart through PATCH at this capture time (§4.4)
    lite: bool = False  # rtcprobe load --lite: RTCP counted, not written packet by packet (probe/lite.py)
    variant: dict[str, Any] | None = None  # `rtcprobe matrix`: edits of the offer (rtcprobe.matrix.transform)
    answer_only: bool = False  # `rtcprobe matrix` without --media: end once the answer is recorded

    def for_header(self) -> dict[str, Any]:
        """The options as recorded in the capture header: everything but the token and ICE credentials."""
        out = asdict(self)
        out.pop("token", None)
        out.pop("ice", None)
        out["ice_servers"] = self.ice.urls()  # credential-free
        out["ice_transport_policy"] = "relay" if self.ice.relay_only else "all"
        out["output"] = str(self.output)
        out["token_given"] = self.token is not None
        return out

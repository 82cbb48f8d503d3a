"""The browser's PeerConnection trace, mapped onto the recorder.

webrtc-internals `updateLog` entries and RTCStatsDump lines name the same API calls and events
(`setLocalDescription`, `onicecandidate`, `oniceconnectionstatechange`, ...). Chromium changed
the spelling over the years, so names are compared lower-cased without an `on` prefix
(`onIceCandidate`, `icecandidate` and `onicecandidate` are one event) and values are read in
all three shapes seen in dumps: JSON text (current Chromium: `{"type":"offer","sdp":...}`,
`"\\"checking\\""`), legacy text (`type: offer, sdp: v=0...`, `sdpMid: 0, sdpMLineIndex: 0,
candidate: candidate:...`), and values already parsed (RTCStatsDump lines).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import json_value
from .common import STATE_MACHINES, Recorder

_LEGACY_DESCRIPTION = re.compile(r"^type: *(\w+), *sdp: *(.*)$", re.S)
_LEGACY_CANDIDATE = re.compile(r"^sdpMid: *(.*?), *sdpMLineIndex: *(.*?), *candidate: *(.*)$", re.S)
_DESCRIPTION_TYPES = ("offer", "answer", "pranswer")


def decode_value(value: Any) -> Any:
    """A trace value as JSON data: parsed JSON text, legacy `key: value` text, or as given."""
    if not isinstance(value, str):
        return value[0] if isinstance(value, list) and len(value) == 1 else value
    text = value.strip()
    if text[:1] in ('{', '[', '"') or text in ("null", "true", "false"):
        try:
            return decode_value(json_value(text))
        except ValueError:  # not JSON, or JSON Python cannot take: kept as text
            pass
    if match := _LEGACY_DESCRIPTION.match(value):
        return {"type": match.group(1), "sdp": match.group(2)}
    if match := _LEGACY_CANDIDATE.match(value):
        mid, index, candidate = match.groups()
        return {"sdpMid": None if mid in ("", "null") else mid,
                "sdpMLineIndex": int(index) if index.isdigit() else None, "candidate": candidate}
    return text


def _description(value: Any) -> dict[str, str] | None:
    if isinstance(value, dict) and isinstance(value.get("sdp"), str) and value.get("type") in _DESCRIPTION_TYPES:
        return {"type": value["type"], "sdp": value["sdp"]}
    return None


def normalise_method(method: str) -> str:
    name = str(method).lower()
    return name[2:] if name.startswith("on") else name


class TraceMapper:
    """Applies one session's trace, entry by entry, to its recorder."""

    def __init__(self, recorder: Recorder) -> None:
        self.rec = recorder
        self._created: dict[str, str] | None = None  # last createOffer/AnswerOnSuccess, for implicit SLD
        self.local_set = False

    def apply(self, method: str, raw_value: Any, ms: float) -> None:
        name = normalise_method(method)
        value = decode_value(raw_value)
        rec = self.rec
        if name in STATE_MACHINES:
            if isinstance(value, str) and value:
                rec.state(ms, STATE_MACHINES[name], value)
        elif name == "icecandidate":
            self._candidate(ms, "local", value)
        elif name == "addicecandidate":
            self._candidate(ms, "remote", value)
        elif name in ("addicecandidatefailed", "addicecandidateonfailure"):
            rec.error(ms, "ice", f"addIceCandidate failed: {_text(value)}")
        elif name == "icecandidateerror":
            rec.error(ms, "ice", f"icecandidateerror: {_text(value)}")
        elif name in ("createofferonsuccess", "createansweronsuccess"):
            self._created = _description(value)
        elif name.endswith("onfailure") or name.endswith("failed"):
            phase = "ice" if "icecandidate" in name else "setup"
            rec.error(ms, phase, f"{method}: {_text(value)}")
        elif name.startswith("setlocaldescription") and not name.endswith("onsuccess"):
            self._local(ms, value)
        elif name == "setremotedescription":
            description = _description(value)
            if description:
                rec.description(ms, "remote", description["type"], description["sdp"])
        elif name in ("close", "stop"):
            for machine in ("signaling", "ice_connection", "connection"):
                rec.state(ms, machine, "closed")

    def _local(self, ms: float, value: Any) -> None:
        description = _description(value)
        if description is None and self._created is not None:
            description = self._created  # setLocalDescription() without arguments
        if description is None:
            return
        self.local_set = True
        self.rec.description(ms, "local", description["type"], description["sdp"])

    def _candidate(self, ms: float, side: str, value: Any) -> None:
        if value is None:
            self.rec.candidate(ms, side, "", None, None)  # the null candidate: gathering is done
            return
        if not isinstance(value, dict):
            self.rec.problems.append(f"{self.rec.info.id}: {side} candidate not understood: {_text(value)[:80]}")
            return
        index = value.get("sdpMLineIndex")
        mid = value.get("sdpMid")
        self.rec.candidate(ms, side, str(value.get("candidate") or ""), None if mid is None else str(mid),
                           index if isinstance(index, int) else None)

    def finish(self) -> None:
        if not self.local_set and self.rec.counts.get("sdp"):
            self.rec.problems.append(f"{self.rec.info.id}: the local description is not in the record "
                                     "(setLocalDescription without a logged description)")


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)

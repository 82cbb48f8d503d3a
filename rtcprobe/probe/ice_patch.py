"""Trickle ICE and ICE restart of a WHIP or WHEP capture, through PATCH (RFC 9725 §4.3, §4.4).

aiortc gathers every candidate before the offer, so trickle is what is left of it: once the
answer is in, `a=end-of-candidates` in a trickle-ice-sdpfrag PATCH with If-Match: <ETag>.
`--ice-restart-at` sends new ufrag/pwd (If-Match "*") and, when the server answers 200 with its
own, puts both on the probe's ICE agent (rtcprobe.probe.ice_restart says what that is and is
not), then proves the new credentials with one STUN check on the selected pair."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from aiortc import RTCPeerConnection

from ..signaling import SignalingError
from ..signaling.base import HttpSignaler
from ..signaling.trickle import build_fragment, credentials, new_credentials, parse_fragment
from .ice_restart import RESTART_SCOPE, renew_credentials
from .transport_stats import measure_ice_rtt

#: Protocols whose resources take PATCH.
PATCH_PROTOCOLS = ("whip", "whep")


@dataclass
class IcePatches:
    """The PATCHes of one capture; `notes` go to the summary, `warnings` to the end event."""

    signaler: HttpSignaler
    pc: RTCPeerConnection
    now: Callable[[], float]
    record_exchanges: Callable[[], None]
    offer_sdp: str
    trickle: bool = False
    restart_at: float | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def after_answer(self) -> None:
        """End-of-candidates (RFC 8840 §4.4): the probe has no candidate left to send."""
        if not self.trickle:
            return
        ufrag, pwd = _offer_credentials(self.offer_sdp)
        fragment = build_fragment(self.offer_sdp, ufrag, pwd)
        try:
            response = await self.signaler.patch_fragment("patch", fragment, self.signaler.etag)
        except SignalingError as exc:
            self.warnings.append(f"trickle PATCH failed: {exc.message}")
            return
        finally:
            self.record_exchanges()
        sent = f"If-Match {self.signaler.etag}" if response.exchange.request_headers.get("If-Match") else "no If-Match (the answer had no ETag)"
        if response.status == 204:
            self.notes.append(f"end-of-candidates PATCH answered 204 ({sent})")
        else:
            self.warnings.append(f"end-of-candidates PATCH answered {response.status} ({sent}); RFC 9725 §4.3 expects 204")

    def schedule_restart(self) -> None:
        """Start the restart at `restart_at` on the capture clock (now, when already past)."""
        if self.restart_at is not None and self._task is None:
            self._task = asyncio.ensure_future(self._restart_when_due())

    async def _restart_when_due(self) -> None:
        await asyncio.sleep(max(0.0, self.restart_at - self.now()))  # type: ignore[operator]
        await self.restart()

    def cancel(self) -> None:
        """At the end of the session: a restart not yet due is said not to have happened."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            self.warnings.append(f"ICE restart at t={self.restart_at:g} s not done: the session ended first")
        elif self.restart_at is not None and self._task is None:
            self.warnings.append(f"ICE restart at t={self.restart_at:g} s not done: the session never ran")

    async def restart(self) -> None:
        """One ICE restart; a failed one leaves the session on its old credentials, said so."""
        at = self.now()
        local = new_credentials()
        candidates = [ln.strip()[2:] for ln in self.offer_sdp.splitlines() if ln.strip().startswith("a=candidate:")]
        fragment = build_fragment(self.offer_sdp, *local, candidates=candidates)
        etag_before = self.signaler.etag
        try:
            response = await self.signaler.patch_fragment("restart", fragment, "*")
        except SignalingError as exc:
            self.warnings.append(f"ICE restart at t={at:.1f} s failed: {exc.message}; the probe's ICE agent did not restart")
            return
        finally:
            self.record_exchanges()
        if response.status != 200:
            self.warnings.append(f"ICE restart at t={at:.1f} s answered {response.status}, not 200 (RFC 9725 §4.4): "
                                 "the probe's ICE agent did not restart and kept its old credentials")
            return
        try:
            answer = parse_fragment(response.text)
        except ValueError as exc:
            answer = None
            why = str(exc)
        if answer is None or not answer.ufrag or not answer.pwd:
            why = why if answer is None else "no a=ice-ufrag/a=ice-pwd in the answer fragment"
            self.warnings.append(f"ICE restart at t={at:.1f} s: 200 but {why}; the probe's ICE agent did not restart")
            return
        new_etag = self.signaler.etag if self.signaler.etag != etag_before else None
        if not renew_credentials(self.pc, local, (answer.ufrag, answer.pwd)):
            self.warnings.append(f"ICE restart at t={at:.1f} s: the server answered 200 with new credentials, "
                                 "but the probe's own ICE agent did not restart (aiortc keeps none where rtcprobe can reach it)")
            return
        rtt = await self._check()
        etag = f"new ETag {new_etag}" if new_etag else "no new ETag (RFC 9725 §4.4 asks for one)"
        checked = (f"a STUN check with the new credentials was answered in {rtt * 1000:.1f} ms" if rtt is not None
                   else "a STUN check with the new credentials was NOT answered")
        summary = f"ICE restart at t={at:.1f} s: 200, {etag}, server ufrag {answer.ufrag}; {RESTART_SCOPE}; {checked}"
        (self.notes if rtt is not None and new_etag else self.warnings).append(summary)

    async def _check(self) -> float | None:
        transports = [t.receiver.transport for t in self.pc.getTransceivers()]
        for transport in transports[:1]:
            with contextlib.suppress(Exception):
                return await measure_ice_rtt(transport)
        return None


def _offer_credentials(sdp: str) -> tuple[str, str]:
    ufrag, pwd = credentials(sdp)
    return ufrag or "", pwd or ""


def patches_for(protocol: str, trickle: bool, restart_at: float | None) -> bool:
    """Whether a capture sends PATCHes; ValueError when asked of a protocol without them."""
    if not trickle and restart_at is None:
        return False
    if protocol not in PATCH_PROTOCOLS:
        raise ValueError(f"--trickle and --ice-restart-at need a WHIP or WHEP target, not {protocol}")
    return True

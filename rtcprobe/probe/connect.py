"""Connecting: aiortc's state machines watched as events, and the ICE and DTLS phases waited on.

A mixin of ProbeSession (it uses the session's recorder, options and peer connection), kept apart
because how a connection is judged — from what ICE and DTLS actually did, not only from what the
ICE agent reported first — is a subject of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection

from ..capture import events as ev
from .diagnose import diagnose_ice, ice_pairs
from .options import ProbeOptions
from .status import ProbeFailure, ProbeStatus
from .taps import peer_connection_transports


class ConnectPhases:
    """State watching and the ICE/DTLS waits of a probe session."""

    options: ProbeOptions
    status: ProbeStatus
    _pc: RTCPeerConnection | None
    _ice_connected: asyncio.Event
    _connected: asyncio.Event
    _dtls_settled: asyncio.Event  # a DTLS transport reached connected, failed or closed
    _failed: asyncio.Event
    _remote_candidates: list
    _ignored_candidates: list
    _warnings: list[str]
    _record: Callable[..., None]
    _phase: Callable[[str], None]
    _publish: Callable[[], None]

    def _watch_states(self, pc: RTCPeerConnection) -> None:
        def watch(machine: str, attribute: str) -> Callable[[], None]:
            def handler() -> None:
                state = getattr(pc, attribute)
                self._record(ev.STATE, machine=machine, state=state)
                if machine == "connection":
                    self.status.connection_state = state
                    if state == "connected":
                        self._connected.set()
                    elif state in ("failed", "closed"):
                        self._failed.set()
                elif machine == "ice_connection":
                    self.status.ice_state = state
                    if state in ("connected", "completed"):
                        self._ice_connected.set()
                    elif state == "failed":
                        self._failed.set()
                    if state == "checking":
                        self._watch_dtls(pc)
                self._publish()
            return handler

        pc.on("signalingstatechange", watch("signaling", "signalingState"))
        pc.on("icegatheringstatechange", watch("ice_gathering", "iceGatheringState"))
        pc.on("iceconnectionstatechange", watch("ice_connection", "iceConnectionState"))
        pc.on("connectionstatechange", watch("connection", "connectionState"))

    def _watch_dtls(self, pc: RTCPeerConnection) -> None:
        for transport in peer_connection_transports(pc):
            if getattr(transport, "_rtcprobe_watched", False):
                continue
            transport._rtcprobe_watched = True

            @transport.on("statechange")
            def on_state(transport: Any = transport) -> None:
                self._record(ev.STATE, machine="dtls", state=transport.state)
                if transport.state in ("connected", "failed", "closed"):
                    self._dtls_settled.set()

    def _ice_connection(self) -> Any:
        for transport in peer_connection_transports(self._pc):  # type: ignore[arg-type]
            return transport.transport._connection
        return None

    async def _until(self, event: asyncio.Event, timeout: float) -> bool:
        """Wait for `event` unless the connection fails first or `timeout` passes; True if it came."""
        waits = {asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._failed.wait())}
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()
        return event.is_set()

    async def _await_connected(self) -> None:
        """ICE within its timeout, then DTLS within its own; each failure is classified apart."""
        pc, timeouts = self._pc, self.options.timeouts
        assert pc is not None
        self._phase("ICE")
        ice_ok = await self._until(self._ice_connected, timeouts.ice)
        connection = self._ice_connection()
        if not ice_ok and self._failed.is_set():
            ice_ok = await self._connected_despite_ice(connection)
        self._record(ev.ICE_PAIRS, pairs=ice_pairs(connection))
        if not ice_ok:
            waited = None if self._failed.is_set() else timeouts.ice
            raise ProbeFailure("ice", diagnose_ice(connection, self._remote_candidates, waited,
                                                   self._ignored_candidates))
        self._phase("DTLS")
        if not await self._until(self._connected, timeouts.dtls):
            dtls_states = ", ".join(t.state for t in peer_connection_transports(pc))
            if self._failed.is_set():
                raise ProbeFailure("dtls", f"ICE connected but the DTLS handshake failed (DTLS state {dtls_states}):"
                                           " the peer's certificate does not match the answer's fingerprint, or the"
                                           " peer aborted the handshake")
            raise ProbeFailure("dtls", f"ICE connected but the DTLS handshake did not complete within "
                                       f"{timeouts.dtls:g} s (DTLS state {dtls_states})")

    async def _connected_despite_ice(self, connection: Any) -> bool:
        """aioice reports ICE failed at once when the answer's candidates leave it nothing to check,
        even as the peer's own check forms a peer-reflexive pair that then succeeds; aiortc still
        runs DTLS on it. DTLS connected on a nominated pair is a connected session, whatever the ICE
        agent said first: go on, with a warning."""
        if not any(p["state"] in ("succeeded", "in_progress", "waiting") for p in ice_pairs(connection)):
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._dtls_settled.wait(), self.options.timeouts.dtls)
        dtls_connected = [t for t in peer_connection_transports(self._pc) if t.state == "connected"]  # type: ignore[arg-type]
        nominated = [p for p in ice_pairs(connection) if p["nominated"] and p["state"] == "succeeded"]
        if not (dtls_connected and nominated):
            return False
        self._failed.clear()
        self._connected.set()
        self._warnings.append(
            f"the ICE agent reported failure, yet the pair {nominated[0]['local']} → {nominated[0]['remote']} "
            "succeeded and was selected; DTLS connected on it, so the session went on, without "
            "ICE consent checks (a lost path shows as media silence)")
        return True

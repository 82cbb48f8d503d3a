"""User-space impairment of the reference target's outbound media (kernel netem is not available):
seeded loss through rtcprobe.probe.taps (PacketTap + LossFilter), and a fixed delay here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiortc import RTCPeerConnection
from aiortc.rtcdtlstransport import RTCDtlsTransport

from ..probe.taps import (
    RTP,
    SENT,
    LossFilter,
    PacketTap,
    monotonic_clock,
    peer_connection_transports,
)

logger = logging.getLogger(__name__)

_DELAY_ATTR = "_rtcprobe_delay"


class OutboundDelay:
    """Holds every packet the transport sends (RTP and RTCP, after the taps) for `delay` seconds.

    A fixed delay keeps packet order. Wraps one transport instance's `_send_rtp`, like PacketTap,
    so it must be installed before the tap for the tap to see packets when they are handed over."""

    def __init__(self, transport: RTCDtlsTransport, delay: float) -> None:
        self.delay = delay
        self._send: Callable[[bytes], Awaitable[None]] = transport._send_rtp
        self._pending: set[asyncio.Task[None]] = set()
        transport._send_rtp = self._delayed  # type: ignore[method-assign]
        setattr(transport, _DELAY_ATTR, self)

    async def _delayed(self, data: bytes) -> None:
        asyncio.get_running_loop().call_later(self.delay, self._release, data)

    def _release(self, data: bytes) -> None:
        task = asyncio.ensure_future(self._send_quietly(data))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send_quietly(self, data: bytes) -> None:
        # the transport may close while the packet is in flight: then it is lost, as on a wire
        with contextlib.suppress(ConnectionError):
            await self._send(data)


def impair_peer_connection(pc: RTCPeerConnection, *, delay_ms: float = 0.0,
                           loss_percent: float = 0.0, seed: int = 0) -> list[LossFilter]:
    """Delay and/or drop what `pc` sends. Call once the transceivers exist (after
    setRemoteDescription) and before media flows. Loss hits outbound RTP only (RTCP feedback
    keeps flowing, so NACK/RTX behaviour stays observable); delay hits RTP and RTCP."""
    filters: list[LossFilter] = []
    for transport in peer_connection_transports(pc):
        if delay_ms > 0 and getattr(transport, _DELAY_ATTR, None) is None:
            OutboundDelay(transport, delay_ms / 1000)
        if loss_percent > 0:
            loss = LossFilter(loss_percent, seed, kinds=(RTP,), directions=(SENT,))
            PacketTap.attach(transport, monotonic_clock(), drop=loss)
            filters.append(loss)
    if delay_ms > 0 or loss_percent > 0:
        logger.info("impairment: %g ms outbound delay, %g %% outbound RTP loss (seed %d)",
                    delay_ms, loss_percent, seed)
    return filters

"""The socket seam: the one place where a session's datagrams meet the impairment, between aioice
and its sockets, so that STUN, DTLS, SRTP and SRTCP all cross the same network (as pion's vnet).

aioice gives each local candidate a `StunProtocol` whose `transport` (an asyncio datagram transport,
or a TURN transport for a relayed candidate) sends with `sendto`, and whose `datagram_received` the
socket (or the TURN client) calls. `Network.attach_connection` replaces, on those protocol
*instances* only, `transport` with a proxy whose `sendto` goes through the "up" pipe and
`datagram_received` with one that goes through the "down" pipe. Nothing global is patched: another
peer connection in the same process (the reference target in a test) is untouched, and `detach`
restores every instance. aioice has no ICE-TCP host candidates (TURN over TCP is a relay protocol,
and is covered since its protocol is wrapped the same way).

Held datagrams wait in a heap per direction ordered by (due time, arrival), under one timer.
A direction with nothing to do hands datagrams on at once, in the caller's call.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from collections.abc import Callable
from typing import Any

from .. import limits
from .impair import Pipe
from .spec import DIRECTIONS, DOWN, UP, NetworkSpec

logger = logging.getLogger(__name__)

Deliver = Callable[[], None]


class _ImpairedTransport:
    """Stands in for one protocol's transport: `sendto` goes through the network, the rest is
    the transport's own."""

    def __init__(self, transport: Any, network: Network) -> None:
        self._transport = transport
        self._network = network

    def sendto(self, data: bytes, addr: Any = None) -> None:
        transport = self._transport
        self._network.carry(UP, data, lambda: _send(transport, data, addr))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _send(transport: Any, data: bytes, addr: Any) -> bool:
    if transport.is_closing():
        return False
    transport.sendto(data, addr)
    return True


class Network:
    """Both directions of one session's network, for any number of aioice connections."""

    def __init__(self, seed: int, spec: NetworkSpec | None = None) -> None:
        self.seed = seed
        self.pipes = {name: Pipe(name, seed) for name in DIRECTIONS}
        self.spec = NetworkSpec()
        self._held: dict[str, list[tuple[float, int, Deliver]]] = {name: [] for name in DIRECTIONS}
        self._timers: dict[str, asyncio.TimerHandle | None] = dict.fromkeys(DIRECTIONS)
        self._order = itertools.count()
        self._wrapped: list[tuple[Any, Any]] = []  # (protocol, its own transport)
        self._connections: set[int] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False
        if spec is not None:
            self.apply(spec)

    def apply(self, spec: NetworkSpec) -> None:
        """These conditions from now on, in both directions."""
        self.spec = spec
        for name, pipe in self.pipes.items():
            pipe.set_conditions(spec.direction(name))

    # -- attaching ------------------------------------------------------------------------
    def attach_connection(self, connection: Any) -> None:
        """Wrap every protocol of one aioice Connection (after it gathered). Idempotent."""
        if id(connection) in self._connections or self.closed:
            return
        self._connections.add(id(connection))
        self._loop = self._loop or asyncio.get_running_loop()
        for protocol in list(connection._protocols):
            own = protocol.transport
            protocol.transport = _ImpairedTransport(own, self)
            receive = protocol.datagram_received  # the class's bound method

            def received(data: bytes, addr: Any, receive: Callable[..., None] = receive) -> None:
                self.carry(DOWN, data, lambda: receive(data, addr) if not self.closed else False)

            protocol.datagram_received = received
            self._wrapped.append((protocol, own))

    def attach_gatherer(self, gatherer: Any) -> None:
        """Wrap an aiortc RTCIceGatherer's connection once it has gathered (now, or at its
        'completed' state change, which aiortc emits before any connectivity check is sent)."""
        if gatherer.state == "completed":
            self.attach_connection(gatherer._connection)
            return

        @gatherer.on("statechange")
        def on_state() -> None:
            if gatherer.state == "completed":
                self.attach_connection(gatherer._connection)

    def attach_peer_connection(self, pc: Any) -> None:
        """Every ICE transport `pc` has now (call after its transceivers and data channel exist and
        before setLocalDescription, or after it: gatherers that completed are wrapped at once)."""
        from ..probe.taps import peer_connection_transports

        for dtls in peer_connection_transports(pc):
            self.attach_gatherer(dtls.transport.iceGatherer)

    def detach(self) -> None:
        """Give every wrapped protocol its own transport and receive method back."""
        for protocol, own in self._wrapped:
            protocol.transport = own
            with contextlib.suppress(AttributeError):
                del protocol.datagram_received
        self._wrapped.clear()

    # -- carrying -------------------------------------------------------------------------
    def carry(self, direction: str, data: bytes, deliver: Callable[[], Any]) -> None:
        """One datagram into `direction`; `deliver` hands it on (returns False when it could not)."""
        loop = self._loop or asyncio.get_running_loop()
        now = loop.time()
        pipe = self.pipes[direction]
        releases = pipe.offer(data, now)
        held = self._held[direction]
        for due in releases:
            if due <= now and not held:
                self._delivered(direction, data, deliver, 0.0, 0.0)
            elif len(held) >= limits.IMPAIR_MAX_HELD_PACKETS:
                pipe.count_overflow()
            else:
                arrived = now

                def later(due: float = due, arrived: float = arrived) -> None:
                    current = loop.time()
                    self._delivered(direction, data, deliver, current - arrived, current - due)

                heapq.heappush(held, (due, next(self._order), later))
        self._arm(direction)

    def _delivered(self, direction: str, data: bytes, deliver: Callable[[], Any], held: float, late: float) -> None:
        counts = self.pipes[direction].counts
        try:
            ok = deliver() is not False
        except OSError as exc:  # the socket went away while the datagram was in flight: a wire loss
            logger.debug("impaired %s datagram not delivered: %s", direction, exc)
            ok = False
        if not ok:
            counts.lost_at_close += 1
            return
        counts.delivered += 1
        counts.delivered_bytes += len(data)
        counts.delay_sum += held
        counts.delay_max = max(counts.delay_max, held)
        counts.late_sum += late
        counts.late_max = max(counts.late_max, late)

    def _arm(self, direction: str) -> None:
        held = self._held[direction]
        timer = self._timers[direction]
        if not held or self.closed:
            return
        due = held[0][0]
        if timer is not None and timer.when() <= due:
            return
        if timer is not None:
            timer.cancel()
        loop = self._loop or asyncio.get_running_loop()
        self._timers[direction] = loop.call_at(due, self._release, direction)

    def _release(self, direction: str) -> None:
        self._timers[direction] = None
        loop = self._loop or asyncio.get_running_loop()
        held = self._held[direction]
        # the loop runs a timer up to its clock resolution early: take what is due by then
        horizon = loop.time() + loop._clock_resolution  # type: ignore[attr-defined]
        while held and held[0][0] <= horizon:
            _, _, later = heapq.heappop(held)
            later()
        self._arm(direction)

    def close(self) -> None:
        """Stop: what is still held is lost (counted), every protocol is given back."""
        if self.closed:
            return
        self.closed = True
        for direction in DIRECTIONS:
            timer = self._timers[direction]
            if timer is not None:
                timer.cancel()
            self.pipes[direction].counts.lost_at_close += len(self._held[direction])
            self._held[direction].clear()
        self.detach()

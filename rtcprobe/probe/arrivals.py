"""When an RTP packet reached the socket, from the kernel: arrival times for transport-cc feedback.

The taps see a packet when the probe's single-threaded event loop gets to it. On a busy machine
that can be a few hundred ms after it arrived, and a sender that reads the feedback (Chromium's
delay-based estimator, its probe clusters) takes the stall for queueing on the path and backs off,
though the network was idle. Linux stamps datagrams as they are received once
asked to; `SIOCGSTAMPNS` reads the stamp of the last datagram read from a socket (and turns
stamping on), so read inside the protocol's `datagram_received` (asyncio reads one datagram,
then calls it) it is this one's. (Setting SO_TIMESTAMPNS instead moves the stamp to ancillary
data, which asyncio does not read, and the ioctl then answers ENOENT.)

SRTP leaves the RTP header in the clear (RFC 3711 §3.1), so the first 12 bytes (sequence number,
timestamp, SSRC) key the stamp from the socket to the decrypted packet in the tap.

Not used under the probe's own impairment (rtcprobe.net's seam holds datagrams between the socket
and aioice, so the socket time is not the simulated arrival): there the tap's time is the truth.
"""

from __future__ import annotations

import contextlib
import fcntl
import struct
import sys
import time
from typing import Any

SIOCGSTAMPNS = 0x8907
_TIMESPEC = struct.Struct("@qq")
MAX_KEPT = 4096
MAX_AGE_S = 2.0


class KernelArrivals:
    """Socket arrival stamps of RTP datagrams, by clear header; `age(header)` pops one."""

    def __init__(self) -> None:
        self._stamps: dict[bytes, float] = {}
        self.hooked = 0

    def hook_connection(self, connection: Any) -> None:
        """Stamp what the host sockets of one aioice Connection receive (not under an impairment seam,
        not relayed candidates: a TURN client's datagrams are not one socket read each)."""
        if not sys.platform.startswith("linux"):
            return
        for protocol in list(getattr(connection, "_protocols", ())):
            transport = getattr(protocol, "transport", None)
            if transport is None or type(transport).__name__ != "_SelectorDatagramTransport" \
                    or "datagram_received" in vars(protocol):  # wrapped already (the seam, or us)
                continue
            try:
                fileno = transport.get_extra_info("socket").fileno()
            except (AttributeError, OSError):
                continue
            with contextlib.suppress(OSError):  # the first call turns stamping on (ENOENT: none yet)
                fcntl.ioctl(fileno, SIOCGSTAMPNS, bytearray(_TIMESPEC.size))
            protocol.datagram_received = self._wrap(protocol.datagram_received, fileno)
            self.hooked += 1

    def _wrap(self, receive: Any, fileno: int) -> Any:
        stamps, buffer = self._stamps, bytearray(_TIMESPEC.size)

        def received(data: bytes, addr: Any) -> None:
            if len(data) >= 12 and 128 <= data[0] <= 191 and not 192 <= data[1] <= 223:  # RTP (RFC 7983, 5761)
                with contextlib.suppress(OSError):
                    fcntl.ioctl(fileno, SIOCGSTAMPNS, buffer)
                    seconds, nanoseconds = _TIMESPEC.unpack(buffer)
                    if len(stamps) >= MAX_KEPT:
                        stamps.clear()
                    stamps[data[:12]] = seconds + nanoseconds / 1e9
            receive(data, addr)
        return received

    def age(self, header: bytes) -> float | None:
        """How long ago (s) the datagram with this clear RTP header reached its socket; None: unknown."""
        stamp = self._stamps.pop(header, None)
        if stamp is None:
            return None
        age = time.time() - stamp
        return age if 0 <= age < MAX_AGE_S else None


def hook_peer_connection(pc: Any) -> KernelArrivals:
    """Kernel arrival stamps for every ICE connection of `pc` (after gathering)."""
    arrivals = KernelArrivals()
    seen: set[int] = set()
    for transceiver in pc.getTransceivers():
        dtls = transceiver.receiver.transport
        connection = getattr(getattr(dtls, "transport", None), "_connection", None)
        if connection is not None and id(connection) not in seen:
            seen.add(id(connection))
            arrivals.hook_connection(connection)
    return arrivals

"""Transport-wide congestion control on the wire: the header extension and the feedback packet.

draft-holmer-rmcat-transport-wide-cc-extensions-01. The sender stamps a 16-bit transport-wide
sequence number on every RTP packet (`stamp`); the receiver answers with RTCP RTPFB FMT 15
(`encode_feedback`): a base sequence number, a packet status count, a 24-bit reference time in
64 ms units, an 8-bit feedback packet count, then status chunks (run-length, or status vectors
of 14 one-bit or 7 two-bit symbols) and one receive delta per received packet in 250 µs ticks
(one byte when 0..255 ticks, else two bytes signed). `decode_feedback` turns one back into
`Arrival` records, one per reported sequence number.

Semantics follow libwebrtc's `TransportFeedback`: deltas are taken between the 250 µs-rounded
timestamps (so rounding does not accumulate), the first delta is from the reference time, and
status vectors are padded with "not received" symbols past the packet status count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from struct import Struct

from aiortc.rtp import pack_header_extensions, unpack_header_extensions

URI = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

RTPFB, FMT = 205, 15
TICK_US = 250
REFERENCE_US = 64_000
NOT_RECEIVED, SMALL, LARGE = 0, 1, 2
MAX_RUN = 0x1FFF
_HEADER = Struct("!BBHLLHHL")  # V/P/FMT, PT, length, sender SSRC, media SSRC, base, count, ref|fb
_EXTENSION = Struct("!HH")


@dataclass(frozen=True)
class Arrival:
    """One reported packet: its transport-wide sequence number (unwrapped from `base`) and its
    arrival time in µs on the feedback sender's clock (None: reported not received)."""

    seq: int
    arrival_us: int | None


@dataclass
class Feedback:
    """A decoded transport-cc feedback packet."""

    sender_ssrc: int
    media_ssrc: int
    base_seq: int
    feedback_count: int
    reference_us: int
    arrivals: list[Arrival]

    @property
    def received(self) -> int:
        return sum(a.arrival_us is not None for a in self.arrivals)

    @property
    def lost(self) -> int:
        return len(self.arrivals) - self.received


# -- the header extension ------------------------------------------------------------------
def rtp_extensions(data: bytes) -> tuple[int, int, list[tuple[int, bytes]]]:
    """(start of the extension block or of the payload, end of it, the elements) of an RTP packet."""
    start = 12 + 4 * (data[0] & 0x0F)
    if not data[0] & 0x10:
        return start, start, []
    profile, words = _EXTENSION.unpack_from(data, start)
    end = start + 4 + 4 * words
    if end > len(data):
        raise ValueError("RTP header extension runs past the packet")
    return start, end, unpack_header_extensions(profile, data[start + 4:end])


def read_sequence(data: bytes, ext_id: int) -> int | None:
    """The transport-wide sequence number of an RTP packet, None when it carries none."""
    try:
        _, _, elements = rtp_extensions(data)
    except (ValueError, IndexError):
        return None
    for x_id, value in elements:
        if x_id == ext_id and len(value) == 2:
            return int.from_bytes(value, "big")
    return None


def stamp(data: bytes, ext_id: int, seq: int) -> bytes:
    """`data` with transport-wide sequence number `seq` under `ext_id` (replaced if present).
    The extension block keeps the one-byte form (RFC 8285 §4.2) unless an element needs the
    two-byte form (id > 14 or a value longer than 16 bytes), exactly as aiortc packs it."""
    start, end, elements = rtp_extensions(data)
    value = (seq & 0xFFFF).to_bytes(2, "big")
    elements = [(x_id, v) for x_id, v in elements if x_id != ext_id] + [(ext_id, value)]
    profile, block = pack_header_extensions(elements)
    block += b"\x00" * (-len(block) % 4)
    header = bytes([data[0] | 0x10]) + data[1:start]
    return header + _EXTENSION.pack(profile, len(block) // 4) + block + data[end:]


# -- the feedback packet -------------------------------------------------------------------
def encode_feedback(sender_ssrc: int, media_ssrc: int, base_seq: int, feedback_count: int,
                    arrivals: list[int | None]) -> bytes:
    """One RTPFB FMT 15 packet for sequence numbers base_seq, base_seq+1, ... : `arrivals[i]` is
    the arrival time in µs of base_seq+i, None when not received. Raises ValueError when a delta
    does not fit in 16 signed bits of 250 µs (the caller then splits the feedback there). Leading
    packets may be missing (libwebrtc reports them, from the window's start); at least one entry
    is received, and the first received one sets the reference time."""
    first = next((a for a in arrivals if a is not None), None)
    if first is None:
        raise ValueError("transport-cc feedback reports at least one received packet")
    reference = first // REFERENCE_US
    last_us = reference * REFERENCE_US
    symbols: list[int] = []
    deltas = bytearray()
    for arrival in arrivals:
        if arrival is None:
            symbols.append(NOT_RECEIVED)
            continue
        ticks = (arrival - last_us + TICK_US // 2) // TICK_US  # half up, so rounding never drifts
        if 0 <= ticks <= 0xFF:
            symbols.append(SMALL)
            deltas.append(ticks)
        elif -0x8000 <= ticks <= 0x7FFF:
            symbols.append(LARGE)
            deltas += ticks.to_bytes(2, "big", signed=True)
        else:
            raise ValueError(f"receive delta of {ticks * TICK_US} µs does not fit transport-cc feedback")
        last_us += ticks * TICK_US
    body = bytearray(_HEADER.pack(0, 0, 0, sender_ssrc, media_ssrc, base_seq & 0xFFFF, len(symbols),
                                  ((reference & 0xFFFFFF) << 8) | (feedback_count & 0xFF)))
    for chunk in _chunks(symbols):
        body += chunk.to_bytes(2, "big")
    body += deltas
    padding = -len(body) % 4
    if padding:
        body += b"\x00" * (padding - 1) + bytes([padding])
    words = len(body) // 4 - 1
    body[0:4] = bytes([0x80 | (0x20 if padding else 0) | FMT, RTPFB]) + words.to_bytes(2, "big")
    return bytes(body)


def _chunks(symbols: list[int]) -> Iterable[int]:
    """Greedy chunking: a run of 7 or more equal symbols is run-length coded (libwebrtc codes a
    run once a vector would not hold it), otherwise 14 one-bit symbols when there is no large
    delta among them, else 7 two-bit symbols; vectors are padded with "not received"."""
    i, n = 0, len(symbols)
    while i < n:
        run = 1
        while i + run < n and symbols[i + run] == symbols[i] and run < MAX_RUN:
            run += 1
        if run >= 7:
            yield (symbols[i] << 13) | run
            i += run
            continue
        window = symbols[i:i + 14]
        if LARGE not in window:
            bits = 0
            for k in range(14):
                bits = (bits << 1) | (window[k] if k < len(window) else 0)
            yield 0x8000 | bits
            i += 14
        else:
            bits = 0
            for k in range(7):
                bits = (bits << 2) | (symbols[i + k] if i + k < n else 0)
            yield 0xC000 | bits
            i += 7


def decode_feedback(data: bytes) -> Feedback:
    """One RTPFB FMT 15 packet (the bytes of that packet alone) into arrival records.
    Raises ValueError on a truncated or inconsistent packet."""
    if len(data) < _HEADER.size or data[1] != RTPFB or data[0] & 0x1F != FMT:
        raise ValueError("not a transport-cc feedback packet")
    _, _, words, sender, media, base, count, ref_fb = _HEADER.unpack_from(data)
    end = min(len(data), 4 * (words + 1))
    if data[0] & 0x20:
        end -= data[end - 1]
    reference = ref_fb >> 8
    if reference & 0x800000:
        reference -= 0x1000000
    symbols: list[int] = []
    pos = _HEADER.size
    while len(symbols) < count:
        if pos + 2 > end:
            raise ValueError("transport-cc feedback: status chunks truncated")
        chunk = int.from_bytes(data[pos:pos + 2], "big")
        pos += 2
        if not chunk & 0x8000:
            symbols += [(chunk >> 13) & 0x3] * (chunk & MAX_RUN)
        elif not chunk & 0x4000:
            symbols += [(chunk >> (13 - k)) & 1 for k in range(14)]
        else:
            symbols += [(chunk >> (12 - 2 * k)) & 0x3 for k in range(7)]
    del symbols[count:]
    now_us = reference * REFERENCE_US
    arrivals: list[Arrival] = []
    for k, symbol in enumerate(symbols):
        if symbol == NOT_RECEIVED:
            arrivals.append(Arrival(base + k, None))
            continue
        size = 1 if symbol == SMALL else 2
        if symbol not in (SMALL, LARGE) or pos + size > end:
            raise ValueError("transport-cc feedback: receive deltas truncated or reserved symbol")
        now_us += int.from_bytes(data[pos:pos + size], "big", signed=size == 2) * TICK_US
        pos += size
        arrivals.append(Arrival(base + k, now_us))
    return Feedback(sender, media, base, ref_fb & 0xFF, reference * REFERENCE_US, arrivals)


def iter_feedback(data: bytes) -> Iterable[Feedback]:
    """Every transport-cc feedback packet in a (compound) RTCP datagram; others are skipped."""
    pos = 0
    while pos + 4 <= len(data):
        size = 4 * (int.from_bytes(data[pos + 2:pos + 4], "big") + 1)
        if data[pos + 1] == RTPFB and data[pos] & 0x1F == FMT:
            try:
                feedback = decode_feedback(data[pos:pos + size])
            except ValueError:
                feedback = None  # a malformed one is skipped; the others still count
            if feedback is not None:
                yield feedback
        pos += size

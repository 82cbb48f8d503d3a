"""What the payload of a video RTP packet says without decoding it: key frames, a key frame's size.

VP8: RFC 7741 §4.2 (payload descriptor) and RFC 6386 §9.1 (key frame header: start code, 14-bit
width and height). H.264: RFC 6184 (single NAL unit, STAP-A, FU-A); an IDR slice is NAL type 5.
"""

from __future__ import annotations

VP8, H264 = "video/vp8", "video/h264"


def vp8_key_size(payload: bytes) -> tuple[int, int] | None:
    """(width, height) from a VP8 key frame's first packet, else None."""
    try:
        first = payload[0]
        if not first & 0x10 or first & 0x0F:
            return None
        i = 1
        if first & 0x80:
            ext = payload[1]
            i = 2
            if ext & 0x80:
                i += 2 if payload[i] & 0x80 else 1
            i += bool(ext & 0x40) + bool(ext & 0x30)
        frame = payload[i:i + 10]
        if len(frame) < 10 or frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
            return None
        return int.from_bytes(frame[6:8], "little") & 0x3FFF, int.from_bytes(frame[8:10], "little") & 0x3FFF
    except IndexError:
        return None


def rtp_payload(data: bytes) -> bytes:
    first = data[0]
    header = 12 + 4 * (first & 0x0F)
    if first & 0x10 and len(data) >= header + 4:
        header += 4 + 4 * int.from_bytes(data[header + 2:header + 4], "big")
    end = len(data) - (data[-1] if first & 0x20 else 0)
    return data[header:end]


def is_key(mime: str, payload: bytes) -> bool:
    """Whether this packet starts a key frame (VP8, RFC 7741 §4.2-4.3) or carries an IDR (H.264)."""
    try:
        return _starts_key(mime, payload)
    except IndexError:  # a truncated payload descriptor: not a key frame we can tell
        return False


def _starts_key(mime: str, payload: bytes) -> bool:
    if mime == VP8:
        first = payload[0]
        if not first & 0x10 or first & 0x0F:  # S bit and partition 0: the frame's first packet
            return False
        i = 1
        if first & 0x80:  # X: extension byte with I, L, T, K flags
            ext = payload[1]
            i = 2
            if ext & 0x80:  # I: picture id, 1 or 2 bytes
                i += 2 if payload[i] & 0x80 else 1
            i += bool(ext & 0x40) + bool(ext & 0x30)
        return len(payload) > i and not payload[i] & 0x01  # P bit 0: key frame
    if mime == H264:
        nal = payload[0] & 0x1F
        if nal == 5:
            return True
        if nal == 28 and len(payload) > 1:  # FU-A: the start fragment's type
            return bool(payload[1] & 0x80) and payload[1] & 0x1F == 5
        if nal == 24:  # STAP-A: any aggregated IDR
            i = 1
            while i + 2 < len(payload):
                size = int.from_bytes(payload[i:i + 2], "big")
                if payload[i + 2] & 0x1F == 5:
                    return True
                i += 2 + size
    return False

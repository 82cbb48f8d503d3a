"""What the stats collector needs to know from the SDP: payload types and SSRCs.

The packet stream alone says neither the clock rate of a payload type (needed for jitter in
seconds) nor which SSRC repairs which (RTX), nor the kind of a stream. The negotiated
descriptions do; both sides' descriptions together cover our SSRCs and the peer's.

A payload type means something only within its m-line: with BUNDLE, audio's 96 may be Opus while
video's 96 is VP8. So codecs are known per (mid, payload type), as W3C `codec` stats are per
transport and m-line; the payload type alone names a codec only when every m-line agrees on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiortc import RTCPeerConnection

from ..sdp import SessionDescription, parse_description


@dataclass
class MediaMap:
    """Payload type and SSRC facts; a caller may also fill it by hand."""

    clock_rates: dict[int, int] = field(default_factory=dict)  # payload type -> clock rate (Hz)
    kinds: dict[int, str] = field(default_factory=dict)  # payload type -> "audio" | "video"
    mime_types: dict[int, str] = field(default_factory=dict)  # payload type -> "audio/opus"
    rtx_apt: dict[int, int] = field(default_factory=dict)  # RTX payload type -> repaired type
    rtx_ssrcs: dict[int, int] = field(default_factory=dict)  # RTX SSRC -> media SSRC
    ssrc_kinds: dict[int, str] = field(default_factory=dict)
    ssrc_mids: dict[int, str] = field(default_factory=dict)
    mid_ext_ids: set[int] = field(default_factory=set)  # header extension ids carrying the MID
    #: (mid, payload type) -> (mime type, clock rate): the codec within its m-line ("#i": m-line i without a mid)
    mid_codecs: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    mid_kinds: dict[str, str] = field(default_factory=dict)  # mid -> "audio" | "video"

    def merge(self, other: MediaMap) -> None:
        """Add what `other` knows; what is already known wins (first description first)."""
        for mine, theirs in ((self.clock_rates, other.clock_rates), (self.kinds, other.kinds),
                             (self.mime_types, other.mime_types), (self.rtx_apt, other.rtx_apt),
                             (self.rtx_ssrcs, other.rtx_ssrcs), (self.ssrc_kinds, other.ssrc_kinds),
                             (self.ssrc_mids, other.ssrc_mids), (self.mid_codecs, other.mid_codecs),
                             (self.mid_kinds, other.mid_kinds)):
            for key, value in theirs.items():
                mine.setdefault(key, value)
        self.mid_ext_ids |= other.mid_ext_ids

    def kind_of(self, ssrc: int, payload_type: int | None, mid: str | None = None) -> str | None:
        kind = self.ssrc_kinds.get(ssrc) or (self.mid_kinds.get(mid) if mid is not None else None)
        if kind is None and payload_type is not None:
            kind = self.kinds.get(payload_type)
        return kind

    def codec(self, mid: str | None, payload_type: int) -> tuple[str | None, int | None] | None:
        """(mime type, clock rate) of `payload_type` on m-line `mid`; without a known mid, only
        when every m-line that uses the payload type gives it the same codec (else None)."""
        if mid is not None and (mid, payload_type) in self.mid_codecs:
            return self.mid_codecs[(mid, payload_type)]
        found = {c for (_, pt), c in self.mid_codecs.items() if pt == payload_type}
        if len(found) == 1:
            return found.pop()
        if not self.mid_codecs and (payload_type in self.mime_types or payload_type in self.clock_rates):
            return self.mime_types.get(payload_type), self.clock_rates.get(payload_type)  # filled by hand
        return None

    @classmethod
    def from_descriptions(cls, *descriptions: SessionDescription | None) -> MediaMap:
        """From parsed descriptions (rtcprobe.sdp); pass the local one first."""
        out = cls()
        for description in descriptions:
            if description is None:
                continue
            for index, media in enumerate(description.media):
                if media.kind not in ("audio", "video"):
                    continue
                section = media.mid if media.mid is not None else f"#{index}"  # no a=mid: the m-line's place
                for codec in media.codecs:
                    pt = codec.payload_type
                    out.clock_rates.setdefault(pt, codec.clock_rate)
                    out.kinds.setdefault(pt, media.kind)
                    out.mime_types.setdefault(pt, f"{media.kind}/{codec.name}")
                    out.mid_codecs.setdefault((section, pt), (f"{media.kind}/{codec.name}", codec.clock_rate))
                    if codec.role == "rtx" and codec.associated_payload_type is not None:
                        out.rtx_apt.setdefault(pt, codec.associated_payload_type)
                if media.mid is not None:
                    out.mid_kinds.setdefault(media.mid, media.kind)
                out.mid_ext_ids |= {e.id for e in media.extensions if e.name == "mid"}
                for ssrc in media.ssrcs:
                    out.ssrc_kinds.setdefault(ssrc, media.kind)
                    if media.mid is not None:
                        out.ssrc_mids.setdefault(ssrc, media.mid)
                for group in media.ssrc_groups:
                    if group.semantics.upper() == "FID" and len(group.ssrcs) == 2:
                        out.rtx_ssrcs.setdefault(group.ssrcs[1], group.ssrcs[0])
        return out

    @classmethod
    def from_peer_connection(cls, pc: RTCPeerConnection) -> MediaMap:
        """From `pc`'s current local and remote descriptions (empty before negotiation). The answer
        comes first: its payload types are the ones on the wire both ways, while an offerer's local
        description is aiortc's own, whose numbers a shaped offer (rtcprobe.probe.offer_shape)
        replaced — with it first, a video PT 96 read as the local audio/opus 96 (48 kHz jitter)."""
        parsed = [parse_description(d.sdp, source=f"{name} description", type=d.type)
                  for name, d in (("local", pc.localDescription), ("remote", pc.remoteDescription))
                  if d is not None]
        parsed.sort(key=lambda d: d.type != "answer")  # stable: the answer first, then the other
        return cls.from_descriptions(*parsed)

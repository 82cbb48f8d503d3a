"""What the stats collector needs to know from the SDP: payload types and SSRCs.

The packet stream alone says neither the clock rate of a payload type (needed for jitter in
seconds) nor which SSRC repairs which (RTX), nor the kind of a stream. The negotiated
descriptions do; both sides' descriptions together cover our SSRCs and the peer's.
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

    def merge(self, other: MediaMap) -> None:
        """Add what `other` knows; what is already known wins (first description first)."""
        for mine, theirs in ((self.clock_rates, other.clock_rates), (self.kinds, other.kinds),
                             (self.mime_types, other.mime_types), (self.rtx_apt, other.rtx_apt),
                             (self.rtx_ssrcs, other.rtx_ssrcs), (self.ssrc_kinds, other.ssrc_kinds),
                             (self.ssrc_mids, other.ssrc_mids)):
            for key, value in theirs.items():
                mine.setdefault(key, value)
        self.mid_ext_ids |= other.mid_ext_ids

    def kind_of(self, ssrc: int, payload_type: int | None) -> str | None:
        kind = self.ssrc_kinds.get(ssrc)
        if kind is None and payload_type is not None:
            kind = self.kinds.get(payload_type)
        return kind

    @classmethod
    def from_descriptions(cls, *descriptions: SessionDescription | None) -> MediaMap:
        """From parsed descriptions (rtcprobe.sdp); pass the local one first."""
        out = cls()
        for description in descriptions:
            if description is None:
                continue
            for media in description.media:
                if media.kind not in ("audio", "video"):
                    continue
                for codec in media.codecs:
                    pt = codec.payload_type
                    out.clock_rates.setdefault(pt, codec.clock_rate)
                    out.kinds.setdefault(pt, media.kind)
                    out.mime_types.setdefault(pt, f"{media.kind}/{codec.name}")
                    if codec.role == "rtx" and codec.associated_payload_type is not None:
                        out.rtx_apt.setdefault(pt, codec.associated_payload_type)
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

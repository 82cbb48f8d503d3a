"""RTP header extensions: what the answer negotiated versus what packets actually carried.

`extensions_seen` events list the extension IDs present on the wire per SSRC and direction; SSRCs
are tied to m-lines through `rtp_first` events and the stats' `mid`. An ID seen but never negotiated,
or negotiated but never seen, is what this table exists to show. A dump holds no packets: there,
what was on the wire is unknown (None), never "not seen".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..capture import Capture
from ..capture import events as ev
from ..sdp import MediaSection, extension_name
from .evidence import evidence


@dataclass(frozen=True)
class ExtensionUsage:
    mid: str | None
    kind: str | None
    id: int
    uri: str | None  # None: seen on the wire, never negotiated
    negotiated: bool
    sent: bool | None  # seen in packets we sent; None: not observable (no packets in a dump)
    received: bool | None  # seen in packets we received; None: not observable

    @property
    def differs(self) -> bool:
        """Negotiated but never used, or used without being negotiated (only knowable from packets)."""
        if self.sent is None or self.received is None:
            return False
        return self.negotiated != (self.sent or self.received)

    @property
    def name(self) -> str:
        return extension_name(self.uri) if self.uri else f"unknown (id {self.id})"


def ssrc_sections(capture: Capture) -> dict[int, tuple[str | None, str | None]]:
    """SSRC -> (mid, kind), from the first RTP packets and the stats."""
    out: dict[int, tuple[str | None, str | None]] = {}
    for e in capture.of(ev.RTP_FIRST):
        if isinstance(e.get("ssrc"), int):
            out[e["ssrc"]] = (e.get("mid"), e.get("kind"))
    for sample in capture.stats_samples:
        for r in sample.get("reports", []):
            ssrc = r.get("ssrc")
            if r.get("type") in ("outbound-rtp", "inbound-rtp") and isinstance(ssrc, int):
                mid, kind = out.get(ssrc, (None, None))
                out[ssrc] = (mid or r.get("mid"), kind or r.get("kind"))
    return out


def extension_usage(capture: Capture) -> list[ExtensionUsage]:
    """One row per (m-line, extension ID): negotiated in the answer (or offer) of the session as it
    ended (its last round) and/or seen on the wire."""
    negotiation = capture.negotiation
    description = negotiation.answer or negotiation.offer
    sections: list[MediaSection] = [m for m in (description.media if description else [])
                                    if m.kind in ("audio", "video") and not m.rejected]
    by_ssrc = ssrc_sections(capture)
    seen: dict[tuple[str | None, str | None], dict[int, set[str]]] = {}
    for e in capture.of(ev.EXTENSIONS_SEEN):
        mid, kind = by_ssrc.get(e.get("ssrc"), (None, None))
        if mid is None and kind is not None:
            same_kind = [m for m in sections if m.kind == kind]
            mid = same_kind[0].mid if len(same_kind) == 1 else None
        for ext_id in e.get("ids") or []:
            seen.setdefault((mid, kind), {}).setdefault(int(ext_id), set()).add(e.get("direction", ""))
    rows: list[ExtensionUsage] = []
    consumed: set[tuple[str | None, str | None]] = set()
    for m in sections:
        wire: dict[int, set[str]] = {}
        for (mid, kind), ids in seen.items():
            if mid == m.mid or (mid is None and kind == m.kind):
                consumed.add((mid, kind))
                for ext_id, directions in ids.items():
                    wire.setdefault(ext_id, set()).update(directions)
        for ext in m.extensions:
            directions = wire.pop(ext.id, set())
            rows.append(ExtensionUsage(m.mid, m.kind, ext.id, ext.uri, True, "sent" in directions,
                                       "received" in directions))
        rows.extend(ExtensionUsage(m.mid, m.kind, ext_id, None, False, "sent" in d, "received" in d)
                    for ext_id, d in sorted(wire.items()))
    for (mid, kind), ids in seen.items():
        if (mid, kind) not in consumed:
            rows.extend(ExtensionUsage(mid, kind, ext_id, None, False, "sent" in d, "received" in d)
                        for ext_id, d in sorted(ids.items()))
    return rows


@dataclass
class ExtensionReport:
    """The extension rows and where the "seen" columns come from."""

    source: str  # "packets" | "sdp" (negotiated only: a dump holds no packets) | "none" (no SDP either, or no RTP
    # flowed at all: nothing on the wire to compare, so no row may claim "negotiated but never seen")
    note: str
    rows: list[ExtensionUsage] = field(default_factory=list)


def extension_report(capture: Capture) -> ExtensionReport:
    found = evidence(capture)
    if found.packets and not capture.of(ev.RTP_FIRST):  # a 401, an ICE or DTLS failure: set-up never reached media
        what = "negotiated" if capture.answer else "offered (the target sent no answer)"
        return ExtensionReport("none", f"no RTP flowed in this session, so the extensions {what} cannot be "
                                       "compared with the wire; the profile lists them")
    if found.packets:
        return ExtensionReport("packets", "negotiated in the answer versus present in RTP packets on the wire",
                               extension_usage(capture))
    description = capture.answer or capture.offer
    if description is None:
        return ExtensionReport("none", f"{found.recorder} holds no SDP: the negotiated extensions are unknown, and "
                                       "their use on the wire is not observable in a dump")
    rows = [ExtensionUsage(m.mid, m.kind, ext.id, ext.uri, True, None, None)
            for m in (description.media if description else []) if m.kind in ("audio", "video") and not m.rejected
            for ext in m.extensions]
    return ExtensionReport("sdp", f"negotiated in the {'answer' if capture.answer else 'offer'}; use on the wire is "
                                  f"not observable in a dump ({found.recorder} holds stats, no packets)", rows)

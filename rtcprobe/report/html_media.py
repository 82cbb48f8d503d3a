"""Sections of one capture's report about what flowed: streams over time, RTCP feedback, candidates
and the selected pair, header extensions negotiated versus seen, and data-channel traffic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..analyze.connection import SelectedPair, SessionCandidate
from ..analyze.evidence import Evidence
from ..analyze.feedback import FeedbackCounts
from ..analyze.impairment import ImpairedInterval
from ..analyze.latency import ResponseTiming
from ..analyze.messages import ChannelEvent, DataChannels, Message
from ..analyze.streams import StreamSeries
from ..analyze.wire import ExtensionReport
from ..capture import Capture
from ..capture import events as ev
from . import plots
from .html_base import Cell, Markup, details, image, join, ms, number, section, table, tag
from .html_capture import ice_pairs_table

#: Data-channel messages listed in the table; the plot shows all of them.
MESSAGE_LIMIT = 300
#: Characters of a message payload shown in its table row.
PAYLOAD_EXCERPT = 160


def streams_section(series: list[StreamSeries], pair_rtt: list[tuple[float, float]], anchor: str,
                    found: Evidence | None = None, impaired: Sequence[ImpairedInterval] = (),
                    available: Sequence[tuple[float, float | None, float | None]] = ()) -> Markup:
    figure = plots.streams(series, pair_rtt, impaired, available)
    if figure is None:
        why = ("No stats samples: the session never had media to measure." if found is None or found.packets
               else f"{found.recorder[:1].upper()}{found.recorder[1:]} holds {found.stats_samples} stats sample(s) "
                    "and no RTP stream in them (no inbound-rtp or outbound-rtp report).")
        return section(f"{anchor}streams", "Streams over time", tag("p", why, class_="muted"))
    rows = []
    for s in series:
        last = s.points[-1] if s.points else None
        rates = [p.bitrate_bps for p in s.points if p.bitrate_bps is not None]
        fps = [p.frames_per_second for p in s.points if p.frames_per_second is not None]
        size = next(((p.frame_width, p.frame_height) for p in reversed(s.points) if p.frame_height is not None), None)
        rows.append([s.direction, s.kind, s.mid, s.codec, Cell(s.ssrc, "num"),
                     Cell(number(last.packets if last else None), "num"),
                     Cell(number(sum(rates) / len(rates) / 1000 if rates else None, " kbit/s", 1), "num"),
                     Cell(ms(last.round_trip_time if last else None), "num"),
                     Cell(ms(last.jitter if last else None), "num"),
                     Cell(number(last.packets_lost if last else None), "num"),
                     Cell(number(fps[-1] if fps else None, "", 1), "num"),
                     Cell(f"{size[0] or '?'}×{size[1]}" if size else None, "num")])
    return section(
        f"{anchor}streams", "Streams over time",
        tag("p", "Sent streams: RTT, jitter and loss as the far end reported them (RTCP receiver reports). "
                 + ("Received streams: measured here. " if found is None or found.packets else
                    f"Received streams: as the browser measured them ({found.recorder}'s getStats). ")
                 + "Solid lines are sent, dashed received. Streams are named by direction, kind, mid and "
                   "codec, their SSRC in brackets. An interval in which the stream stopped (its RTCP BYE, "
                   "or the connection closing) has no bitrate: it would show a drop the session never had."
                 + (" Shaded bands: the network was impaired (--impair), labelled with its SPEC; "
                    "the Network impairment section has what it did." if impaired else ""), class_="muted"),
        image(figure, "RTT, jitter, loss and bitrate per stream"),
        table(["direction", "kind", "mid", "codec", "SSRC", "packets", "mean bitrate", "last RTT", "last jitter",
               "packets lost", "last fps", "last resolution"], rows),
        _stream_panels(series, available, impaired),
    )


def _stream_panels(series: list[StreamSeries], available: Sequence[tuple[float, float | None, float | None]],
                   impaired: Sequence[ImpairedInterval]) -> Markup:
    """Each stream's own panels (the W3C fields it has), on one time axis for all streams."""
    times = [p.t for s in series for p in s.points]
    span = (0.0, max(times, default=0.0) or 1.0)
    parts: list[Any] = []
    for s in series[:plots.STREAM_PANEL_LIMIT]:
        figure = plots.stream_panels(s, span, available, impaired)
        if figure is not None:
            parts.append(image(figure, f"{s.label}: its fields over time"))
    if len(series) > plots.STREAM_PANEL_LIMIT:
        parts.append(tag("p", f"{len(series) - plots.STREAM_PANEL_LIMIT} more stream(s) without panels "
                              "(the table above lists every one).", class_="muted"))
    if not parts:
        return Markup("")
    return details(f"Per-stream panels ({min(len(series), plots.STREAM_PANEL_LIMIT)} stream(s)): bitrate, loss, "
                   "jitter, RTT, frame rate, resolution, audio level, NACK/PLI", join(parts), open_=True)


def feedback_section(counts: FeedbackCounts, anchor: str) -> Markup:
    where = tag("p", counts.note[:1].upper() + counts.note[1:] + ".", class_="muted")
    rows = counts.rows()
    if not rows:
        return section(f"{anchor}rtcp", "RTCP feedback", where)
    cells = [[name, Cell(number(sent), "num"), Cell(number(received), "num")] for name, sent, received in rows]
    classes = ["changed" if name in ("NACK", "PLI", "FIR") and (sent or received) else None
               for name, sent, received in rows]
    nacked = counts.nack_lost_sequence_numbers
    note = (tag("p", f"NACKs asked for {nacked.get('sent', 0)} sequence number(s) (sent) and "
                     f"{nacked.get('received', 0)} (received).") if nacked else "")
    heading = "packet" if counts.source == "packets" else "message"
    return section(f"{anchor}rtcp", "RTCP feedback", where,
                   table([heading, "sent", "received"], cells, row_classes=classes), note)


def candidates_section(candidates: list[SessionCandidate], pair: SelectedPair | None, capture: Capture,
                       anchor: str) -> Markup:
    parts: list[Any] = []
    if pair is not None:
        parts.append(tag("p", join(["Selected pair: ", tag("strong", join([tag("span", pair.local, class_="addr"), " → ",
                                                          tag("span", pair.remote, class_="addr")])),
                                    f" (from {pair.source}" + (", RTT " if pair.round_trip_time is not None else ""),
                                    ms(pair.round_trip_time) if pair.round_trip_time is not None else "", ")."])))
    else:
        parts.append(tag("p", "ICE selected no pair.", class_="bad"))
    rows, classes = [], []
    for c in candidates:
        r = c.row
        rows.append([c.side, ",".join(c.mids) or None, r.component, f"{r.transport.upper()} {r.tcptype or ''}".strip(),
                     Cell(r.address + (" (mDNS)" if r.mdns else ""), "addr"), Cell(r.port, "num"), r.type, Cell(r.priority, "num"),
                     f"{r.type_preference} / {r.local_preference} / {r.priority_component}", r.address_family,
                     ("✔ selected" if c.selected else "") + (" (learned in checks)" if c.source == "checks" else ""),
                     Cell("; ".join(filter(None, [r.priority_note, *r.anomalies,
                                                  c.ignored and f"ignored: {c.ignored}"])) or None, "wrap")])
        classes.append("selected" if c.selected else None)
    if rows:
        parts.append(tag("div", table(["side", "mids", "comp", "transport", "address", "port", "type", "priority",
                                       "type / local pref / comp", "family", "pair", "note"], rows,
                                      row_classes=classes, class_="candidates"), class_="wide"))
    else:
        parts.append(tag("p", "No candidates were recorded.", class_="muted"))
    checks = next((e.get("pairs") for e in reversed(capture.of(ev.ICE_PAIRS))), None)
    if checks:
        parts += [tag("h3", "ICE check list"), tag("div", ice_pairs_table(checks), class_="pairs")]
    return section(f"{anchor}candidates", "ICE candidates", *parts)


def extensions_section(report: ExtensionReport, anchor: str) -> Markup:
    if report.source == "none":
        return section(f"{anchor}extensions", "RTP header extensions",
                       tag("p", report.note[:1].upper() + report.note[1:] + ".", class_="muted"))
    if not report.rows:
        return section(f"{anchor}extensions", "RTP header extensions",
                       tag("p", "No RTP m-lines, no header extensions.", class_="muted"))

    def yes(flag: bool | None) -> Cell:
        if flag is None:
            return Cell("not observable in a dump", "muted")
        return Cell("yes" if flag else "no", "good" if flag else "muted")

    rows = [[u.mid, u.kind, Cell(u.id, "num"), u.name, Cell(u.uri, "wrap"), yes(u.negotiated), yes(u.sent),
             yes(u.received)] for u in report.rows]
    classes = ["changed" if u.differs else None for u in report.rows]
    note = report.note[:1].upper() + report.note[1:] + "." + (
        " Highlighted rows differ: negotiated but never used, or used without being negotiated."
        if report.source == "packets" else "")
    return section(f"{anchor}extensions", "RTP header extensions", tag("p", note, class_="muted"),
                   table(["mid", "kind", "id", "name", "URI", "negotiated", "seen sent", "seen received"], rows,
                         row_classes=classes))


def _excerpt(m: Message) -> str:
    text = m.data if not m.binary else f"(binary, hex) {m.data}"
    cut = len(text) > PAYLOAD_EXCERPT or m.truncated
    return text[:PAYLOAD_EXCERPT] + (" …" if cut else "")


def _channel_stats_table(found: DataChannels) -> Markup:
    return table(["label", "protocol", "id", "state", "messages sent", "messages received", "bytes sent",
                  "bytes received"],
                 [[c.label, c.protocol or None, c.id, Cell(c.state, "good" if c.state == "open" else None),
                   Cell(number(c.messages_sent), "num"), Cell(number(c.messages_received), "num"),
                   Cell(number(c.bytes_sent, " B"), "num"), Cell(number(c.bytes_received, " B"), "num")]
                  for c in found.channels])


def datachannel_section(messages: list[Message], channels: list[ChannelEvent], responses: list[ResponseTiming],
                        duration: float, anchor: str, found: DataChannels | None = None) -> Markup:
    if found is not None and found.source != "messages":
        where = tag("p", found.note[:1].upper() + found.note[1:] + ".", class_="muted")
        if not found.channels:
            return section(f"{anchor}datachannel", "Data channels", where)
        return section(f"{anchor}datachannel", "Data channels", where, _channel_stats_table(found))
    if not messages and not channels:
        return section(f"{anchor}datachannel", "Data channels", tag("p", "No data channel was opened.", class_="muted"))
    parts: list[Any] = []
    figure = plots.datachannel_timing(messages, channels, duration)
    if figure is not None:
        parts.append(image(figure, "data-channel message timing"))
    if channels:
        parts.append(table(["t", "label", "event", "id", "protocol"],
                           [[Cell(ms(c.t), "num"), c.label, c.action, c.id, c.protocol or None] for c in channels]))
    sent = [m for m in messages if m.direction == "sent"]
    received = [m for m in messages if m.direction == "received"]
    parts.append(tag("p", f"{len(sent)} message(s) sent ({sum(m.size for m in sent):,} bytes), {len(received)} "
                          f"received ({sum(m.size for m in received):,} bytes)."))
    if responses:
        parts += [tag("h3", "Requests and their answers"),
                  table(["sent at", "request", "answer", "latency"],
                        [[Cell(ms(r.sent_at), "num"), r.request, r.response, Cell(ms(r.latency), "num")]
                         for r in responses[:MESSAGE_LIMIT]])]
    shown = messages[:MESSAGE_LIMIT]
    if shown:
        parts.append(tag("h3", "Messages"))
        parts.append(table(["t", "label", "direction", "size", "type", "payload (excerpt)"],
                           [[Cell(ms(m.t), "num"), m.label, m.direction, Cell(number(m.size, " B"), "num"), m.type,
                             tag("code", _excerpt(m))] for m in shown]))
    if len(messages) > len(shown):
        parts.append(tag("p", f"{len(messages) - len(shown)} more messages not listed (use Capture.datachannel()).",
                         class_="muted"))
    return section(f"{anchor}datachannel", "Data channels", *parts)


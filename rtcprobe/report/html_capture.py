"""Sections of one capture's report about the session itself: the failure (first, when there is
one), the overview, the profile, connect time, signaling, SDP and the raw timeline."""

from __future__ import annotations

from typing import Any

from ..analyze.distribution import distribution
from ..analyze.evidence import evidence
from ..analyze.impairment import WHO, ImpairmentTruth
from ..analyze.latency import ConnectBreakdown
from ..analyze.profile import Profile
from ..analyze.timeline import timeline_entries
from ..capture import Capture
from ..capture import events as ev
from ..sdp import SessionDescription
from . import plots
from .html_base import Cell, Markup, details, image, join, ms, number, pre, section, table, tag

#: Rows of the raw event timeline shown; the rest is counted, not listed (DataFrames have it all).
TIMELINE_LIMIT = 1500
#: Characters of an HTTP body excerpt or header value shown.
EXCERPT = 2000
#: Impairment changes and streams listed (a session has a few; the capture's events have them all).
CHANGES_LIMIT = 300

_FAILED_IN = {"http": "signaling (HTTP)", "ice": "ICE connectivity", "dtls": "the DTLS handshake",
              "media": "media (no RTP arrived)", "timeout": "a phase timeout", "interrupted": "an interruption",
              "error": "an unexpected error", "cut": "the middle (the capture has no end event)"}


def failure(capture: Capture, breakdown: ConnectBreakdown, anchor: str) -> Markup:
    """The banner a failed capture's report leads with: what failed, the diagnosis, the evidence."""
    where = _FAILED_IN.get(capture.reason, capture.reason)
    facts = f" (end reason: {capture.reason}" + (
        f", failed phase: {breakdown.failed_phase})." if breakdown.failed_phase else ").")
    parts: list[Any] = [
        tag("p", join([tag("strong", f"The session failed in {where}"), facts])),
        tag("p", join([tag("strong", "Diagnosis: "), capture.diagnosis or "none recorded"])),
    ]
    errors = capture.of(ev.ERROR)
    if errors:
        parts.append(table(["t", "phase", "error"], [[Cell(ms(e.get("t")), "num"), e.get("phase"),
                                                      Cell(e.get("message"), "wrap")] for e in errors]))
    offer_http = next((h for h in capture.http if h.get("phase", "offer") == "offer"), None)
    if offer_http is not None and (capture.reason in ("http", "timeout") or offer_http.get("error")):
        status = offer_http.get("status")
        parts.append(tag("p", join(["HTTP: ", f"{offer_http.get('method', '')} {offer_http.get('url', '')} → ",
                                    tag("strong", status if status is not None else offer_http.get("error"))])))
        if offer_http.get("body_excerpt"):
            parts.append(details("Response body (as received, escaped)", pre(str(offer_http["body_excerpt"])[:EXCERPT]),
                                 open_=True))
    pairs = next((e.get("pairs") for e in reversed(capture.of(ev.ICE_PAIRS))), None)
    if pairs and capture.reason in ("ice", "timeout"):
        parts.append(tag("h3", "ICE pairs checked"))
        parts.append(ice_pairs_table(pairs))
    if capture.cut:
        parts.append(tag("p", "The capture has no end event: the probe was killed or crashed; "
                              "everything recorded up to that moment is below."))
    return section(f"{anchor}failure", "Failure", *parts, class_="failure")


def ice_pairs_table(pairs: list[dict[str, Any]]) -> Markup:
    return table(["local", "remote", "state", "nominated"],
                 [[p.get("local"), p.get("remote"), Cell(p.get("state"), "good" if p.get("state") == "succeeded"
                                                         else "bad"), "yes" if p.get("nominated") else "no"]
                  for p in pairs])


def overview(capture: Capture) -> Markup:
    reason_class = "good" if capture.ok else "bad"
    rows = [
        ["target", Cell(capture.target, "wrap")], ["protocol", capture.protocol],
        ["started", capture.started_at.isoformat() if capture.started_at else None],
        ["duration", f"{capture.duration:.2f} s"], ["end", Cell(capture.reason, reason_class)],
        ["diagnosis", Cell(capture.diagnosis, "wrap")],
        *[["warning", Cell(w, "warn")] for w in (capture.end or {}).get("warnings") or []],
        ["events", len(capture.events)],
        ["recorded by", Cell(evidence(capture).recorded_by, "wrap")],
        ["file", capture.path],
    ]
    parts: list[Any] = [table(None, rows, class_="overview")]
    if capture.problems:
        parts.append(tag("h3", "Problems reading the capture"))
        parts.append(tag("ul", join(tag("li", p) for p in capture.problems)))
    return join(parts)


def _unknown_attributes(description: SessionDescription | None) -> Markup:
    """Attributes the SDP model keeps without interpreting: often the interesting, vendor-specific ones."""
    if description is None:
        return Markup("")
    found = [("session", a) for a in description.unknown_attributes] + [
        (m.label, a) for m in description.media for a in m.unknown_attributes]
    if not found:
        return Markup("")
    rows = [[Cell(a.line, "num"), where, Cell(f"a={a.name}" + (f":{a.value}" if a.value is not None else ""), "wrap")]
            for where, a in found]
    return join([tag("h3", "Other attributes (kept, not interpreted)"), table(["line", "where", "attribute"], rows)])


def profile_section(profile: Profile | None, anchor: str, description: SessionDescription | None = None) -> Markup:
    if profile is None:
        return section(f"{anchor}profile", "Profile", tag("p", "No session description was recorded.", class_="muted"))
    parts: list[Any] = [
        tag("p", f"From {profile.described} descriptions"
            + (f", offer/answer round {profile.round} of {profile.rounds}." if profile.round else "."), class_="muted"),
        table(["aspect", "what was found"], [[tag("strong", r.aspect), r.summary] for r in profile.rows],
              class_="profile"),
    ]
    if profile.dropped:
        parts += [tag("h3", "Offered but dropped by the answer"), tag("ul", join(tag("li", d) for d in profile.dropped))]
    if profile.added:
        parts += [tag("h3", "Answered but never offered (not in use)"), tag("ul", join(tag("li", a) for a in profile.added))]
    if profile.warnings:
        parts += [tag("h3", "SDP warnings"), tag("ul", join(tag("li", w) for w in profile.warnings))]
    parts.append(_unknown_attributes(description))
    return section(f"{anchor}profile", "Profile", *parts)


def connect_table(breakdown: ConnectBreakdown) -> Markup:
    rows: list[list[Any]] = [[p.name, Cell(ms(p.start), "num"),
                              Cell(ms(p.duration), "num") if p.end is not None else Cell("never", "bad")]
                             for p in breakdown.phases]
    rows.append([tag("strong", "to media"), "", Cell(breakdown.total_note or ms(breakdown.total), "num")])
    return table(["phase", "start", "took"], rows, class_="connect")


def response_summary(values: list[float]) -> Markup:
    if not values:
        return tag("p", "No data-channel responses were recorded.", class_="muted")
    d = distribution(values)
    return tag("p", join(["Data-channel response latency (request sent → the message answering it): median ",
                          ms(d.median),
                          ", 90th percentile ", ms(d.p90), ", max ", ms(d.maximum), f", n = {d.n}."]))


def connect_section(capture: Capture, breakdown: ConnectBreakdown, anchor: str) -> Markup:
    return section(
        f"{anchor}connect", "Connect time",
        image(plots.waterfall(breakdown, capture.duration), "connect-time waterfall"),
        connect_table(breakdown), response_summary(breakdown.response_latencies),
    )


def _headers(headers: dict[str, Any] | None) -> Markup:
    if not headers:
        return Markup("")
    return table(["header", "value"], [[k, Cell(str(v)[:EXCERPT], "wrap")] for k, v in headers.items()])


def http_section(capture: Capture, anchor: str) -> Markup:
    exchanges = capture.http
    if not exchanges:
        return section(f"{anchor}signaling", "Signaling (HTTP)", tag("p", "No HTTP exchange was recorded.", class_="muted"))
    rows = []
    for h in exchanges:
        took = (h["t_response"] - h["t_request"]) if isinstance(h.get("t_response"), int | float) and isinstance(
            h.get("t_request"), int | float) else None
        status = h.get("status")
        rows.append([h.get("phase"), h.get("method"), Cell(h.get("url"), "wrap"),
                     Cell(status if status is not None else h.get("error"), "good" if status and status < 300 else "bad"),
                     Cell(ms(took), "num"), h.get("request_content_type"), h.get("response_content_type"),
                     ", ".join(h.get("form_fields") or []) or None, Cell(h.get("location"), "wrap")])
    parts: list[Any] = [table(["phase", "method", "URL", "status", "took", "request type", "response type",
                               "form fields", "Location"], rows)]
    for h in exchanges:
        inner = join([tag("h3", "Request headers"), _headers(h.get("request_headers")),
                      tag("h3", "Response headers"), _headers(h.get("response_headers")),
                      pre(str(h["body_excerpt"])[:EXCERPT]) if h.get("body_excerpt") else ""])
        parts.append(details(f"{h.get('phase')}: {h.get('method')} headers", inner))
    return section(f"{anchor}signaling", "Signaling (HTTP)", *parts)


def sdp_section(capture: Capture, anchor: str) -> Markup:
    parts = []
    for e in capture.of(ev.SDP):
        title = f"{e.get('type', 'description')} ({e.get('role')}, {len(e.get('sdp') or '')} bytes, t = {e.get('t', 0):.3f} s)"
        parts.append(details(title, pre(e.get("sdp") or "")))
    if not parts:
        parts.append(tag("p", "No SDP was recorded.", class_="muted"))
    return section(f"{anchor}sdp", "Offer and answer SDP", *parts)


def timeline_section(capture: Capture, anchor: str) -> Markup:
    entries = [e for e in timeline_entries(capture) if e.event != ev.STATS]
    shown = entries[:TIMELINE_LIMIT]
    rows = [[Cell(f"{e.t:.3f}", "num"), e.event, e.direction, Cell(e.summary, "wrap")] for e in shown]
    classes = ["bad" if e.event == ev.ERROR else None for e in shown]
    more = (tag("p", f"{len(entries) - len(shown)} more events not listed (use Capture.timeline()).", class_="muted")
            if len(entries) > len(shown) else "")
    body = join([table(["t (s)", "event", "direction", "what"], rows, row_classes=classes), more])
    return section(f"{anchor}timeline", "Event timeline",
                   details(f"{len(entries)} events (stats samples left out)", body))


def impairment_section(truth: ImpairmentTruth, anchor: str) -> Markup:
    """What the network impairment did (the truth) next to what the probe measured."""
    intro = "The probe's own sockets crossed a user-space network (capture --impair)" + (
        f", seed {truth.seed}." if truth.seed is not None else ".")
    parts: list[Any] = [tag("p", intro)]
    if truth.changes:
        ends: list[float | None] = [t for t, _ in truth.changes[1:]]
        listed = list(zip(truth.changes, ends + [None], strict=True))[:CHANGES_LIMIT]
        parts.append(table(["from", "until", "SPEC"],
                           [[Cell(ms(t), "num"), Cell(ms(end) if end is not None else "the end", "num"),
                             tag("code", spec)] for (t, spec), end in listed]))
        if len(truth.changes) > len(listed):
            parts.append(tag("p", f"{len(truth.changes) - len(listed)} more changes not listed.", class_="muted"))
    if len(truth.intervals) > plots.SHADED_LIMIT:
        parts.append(tag("p", f"The plot shades the first {plots.SHADED_LIMIT} of {len(truth.intervals)} impaired "
                              "intervals.", class_="muted"))
    rows = [[tag("strong", f"{d.direction}: {WHO[d.direction]}"), Cell(number(d.packets), "num"),
             Cell(number(d.dropped_loss), "num"), Cell(number(d.dropped_queue), "num"),
             Cell(number(d.rtp_dropped), "num"), Cell(number(d.delayed), "num"), Cell(number(d.reordered), "num"),
             Cell(number(d.duplicated), "num"), Cell(number(d.measured_lost), "num")]
            for d in truth.directions]
    if rows:
        parts.append(table(["direction", "datagrams", "dropped (random)", "dropped (queue)", "RTP dropped",
                            "delayed", "reordered", "duplicated", "packets lost, measured"], rows,
                           class_="impairment"))
    streams = [[f"{d.direction}: {WHO[d.direction]}", Cell(s.ssrc, "num"), s.kind,
                Cell(number(s.dropped), "num"), Cell(number(s.lost), "num")]
               for d in truth.directions for s in d.ssrcs]
    if streams:
        parts += [tag("h3", "Per RTP stream"), table(["direction", "SSRC", "kind", "RTP dropped (truth)",
                                                      "packets lost, measured"], streams[:CHANGES_LIMIT])]
        if len(streams) > CHANGES_LIMIT:
            parts.append(tag("p", f"{len(streams) - CHANGES_LIMIT} more streams not listed.", class_="muted"))
    if any(not d.final for d in truth.directions):
        parts.append(tag("p", "The capture has no impairment summary (cut short): these are the last running counts.",
                         class_="warn"))
    if any(d.drops_truncated for d in truth.directions):
        parts.append(tag("p", "More drops than the capture lists one by one: per-stream counts are a lower bound.",
                         class_="warn"))
    where = "; ".join(f"{d.direction} {d.measured_by}" for d in truth.directions)
    parts.append(tag("p", "Truth: counted by the impairment on every datagram (STUN, DTLS, RTP, RTCP). Measured: "
                          f"packetsLost, {where}. " + truth.note, class_="muted"))
    return section(f"{anchor}impairment", "Network impairment", *parts)

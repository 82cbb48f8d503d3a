"""The parts of a report over two or more captures: one row per capture, latency distributions,
and the diff of the first capture against each other one (the foundation's `diff`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..analyze.diff import MARKERS, DiffResult, diff
from ..analyze.distribution import distribution
from ..analyze.feedback import FeedbackCounts
from ..analyze.latency import ConnectBreakdown
from ..analyze.voice import VoiceSummary
from ..negotiation import Negotiation
from . import plots
from .html_base import Cell, Markup, details, image, join, ms, section, table, tag

#: Diffs shown in full; beyond this, captures with no semantic change are only counted.
DIFF_LIMIT = 20


@dataclass
class Digest:
    """What the cross-capture parts need of one capture, kept after its own section is rendered
    (the capture's events are dropped, so a report over many captures holds one at a time)."""

    id: str
    anchor: str
    protocol: str | None
    reason: str
    diagnosis: str
    duration: float
    negotiation: Negotiation
    breakdown: ConnectBreakdown
    feedback: FeedbackCounts
    #: Section -> {"source", "note"}: where its numbers come from (packets, a dump's stats, nothing).
    sources: dict[str, dict[str, str]] = field(default_factory=dict)
    voice: VoiceSummary | None = None  # scripted voice turns (capture --turns)

    @property
    def ok(self) -> bool:
        return self.reason == "completed"


def overview(digests: Sequence[Digest]) -> Markup:
    rows, classes = [], []
    for d in digests:
        phase = {p.name: p for p in d.breakdown.phases}
        responses = distribution(d.breakdown.response_latencies)
        rows.append([tag("a", d.id, href=f"#{d.anchor}capture"), d.protocol, Cell(d.reason, "good" if d.ok else "bad"),
                     Cell(f"{d.duration:.1f} s", "num")]
                    + [Cell(ms(phase[n].duration) if n in phase else "—", "num")
                       for n in ("http", "ice", "dtls", "first media")]
                    + [Cell(ms(None if d.breakdown.failed_phase else d.breakdown.total), "num"),
                       Cell(ms(responses.median), "num"),
                       Cell(_nacks(d.feedback), "num")])
        classes.append(None if d.ok else "bad")
    return table(["capture", "protocol", "end", "duration", "HTTP", "ICE", "DTLS", "first media", "to media",
                  "response (median)", "NACK sent / received"], rows, row_classes=classes)


def _nacks(feedback: FeedbackCounts) -> str:
    """NACKs sent / received; "—" where the record cannot know (a dump without NACK counters)."""
    (_, sent, received), = [row for row in feedback.rows() if row[0] == "NACK"] or [("NACK", None, None)]
    return f"{'—' if sent is None else sent} / {'—' if received is None else received}"


def failures(digests: Sequence[Digest]) -> Markup:
    failed = [d for d in digests if not d.ok]
    if not failed:
        return Markup("")
    items = join(tag("li", join([tag("a", d.id, href=f"#{d.anchor}capture"), f" — {d.reason}: {d.diagnosis}"]))
                 for d in failed)
    return section("failures", f"{len(failed)} of {len(digests)} captures failed", tag("ul", items), class_="failure")


def distributions(digests: Sequence[Digest]) -> Markup:
    figure = plots.latency_distributions([d.id for d in digests], [d.breakdown for d in digests])
    return section("distributions", "Latency across captures",
                   tag("p", "Connect phases of every capture (one point each), and data-channel response "
                            "latencies.", class_="muted"),
                   image(figure, "latency distributions across captures"))


def _diff_pair(a: Digest, b: Digest) -> DiffResult | str:
    """Answers when both have one (what the service did); else offers; else why not."""
    side = "answer" if a.negotiation.answer and b.negotiation.answer else "offer"
    try:
        return diff(a.negotiation, b.negotiation, side=side, labels=(a.id, b.id))
    except ValueError as exc:
        return str(exc)


def render_diff(result: DiffResult) -> Markup:
    rows = [[r.field, Cell(r.a, "wrap"), Cell(r.b, "wrap")] for r in result.candidate_table]
    classes = ["changed" if r.changed and not r.volatile else ("muted" if r.volatile else None)
               for r in result.candidate_table]
    parts = [tag("h3", "Candidate sets"), table(["field", result.label_a, result.label_b], rows, row_classes=classes)]
    if result.changes:
        parts += [tag("h3", "Semantic changes (+ added, - removed, ~ changed)"),
                  table(["", "area", "change"], [[Cell(MARKERS[c.kind], "num"), c.area, Cell(c.summary, "wrap")]
                                                 for c in result.changes])]
    else:
        parts.append(tag("p", "No semantic change.", class_="good"))
    if result.volatile:
        parts.append(details(f"{len(result.volatile)} volatile difference(s), expected between sessions",
                             tag("ul", join(tag("li", c.summary) for c in result.volatile))))
    return join(parts)


def diffs(digests: Sequence[Digest]) -> Markup:
    first = digests[0]
    parts = []
    quiet = 0
    for shown, other in enumerate(digests[1:]):
        result = _diff_pair(first, other)
        title = f"{first.id} → {other.id}"
        if isinstance(result, str):
            parts.append(details(title + ": not compared", tag("p", result, class_="muted")))
            continue
        if shown >= DIFF_LIMIT and not result.semantic_change:
            quiet += 1
            continue
        summary = f"{title}: " + (f"{len(result.changes)} semantic change(s)" if result.semantic_change
                                  else "no semantic change")
        parts.append(details(summary, render_diff(result), open_=result.semantic_change and shown < DIFF_LIMIT))
    if quiet:
        parts.append(tag("p", f"{quiet} more capture(s) with no semantic change against {first.id}.", class_="muted"))
    return section("diffs", f"Differences against {first.id}", *parts)

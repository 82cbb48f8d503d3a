"""The closing summary of a capture: connect-time breakdown, negotiated profile, RTCP feedback."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..analyze.detectors import Detection
from ..analyze.feedback import FeedbackCounts
from ..analyze.impairment import WHO, ImpairmentTruth
from ..analyze.latency import ConnectBreakdown
from ..analyze.profile import Profile
from .findings import render_findings, render_quality
from .terminal import render_profile, safe


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.0f} ms"


def render_summary(*, path: str, reason: str, diagnosis: str, breakdown: ConnectBreakdown,
                   detection: Detection | None = None,
                   profile: Profile | None, feedback: FeedbackCounts, console: Console,
                   warnings: list[str] | None = None, profile_note: str = "",
                   impairment: ImpairmentTruth | None = None) -> None:
    style = "green" if reason == "completed" else "red"
    console.print(Text.assemble(("capture ", "bold"), safe(path), ("  end: ", "bold"), safe(reason, style)),
                  soft_wrap=True)  # the end, the diagnosis and each warning: one line each, greppable at any width
    if diagnosis:
        console.print(safe(diagnosis, style=style if reason != "completed" else ""), soft_wrap=True)
    for warning in warnings or []:
        console.print(Text.assemble(("warning: ", "bold yellow"), safe(warning, "yellow")), soft_wrap=True)
    if detection is not None:  # findings first: what went wrong comes before how it was set up
        render_findings(detection, console)
    table = Table(title="Connect time", title_justify="left")
    table.add_column("phase")
    table.add_column("start", justify="right")
    table.add_column("took", justify="right")
    for phase in breakdown.phases:
        table.add_row(safe(phase.name), _ms(phase.start), _ms(phase.duration) if phase.end is not None else "[red]never[/red]")
    table.add_row("[bold]to media[/bold]", "", safe(breakdown.total_note) if breakdown.total_note else _ms(breakdown.total))
    console.print(table)
    if breakdown.responses:
        responses = Table(title="Data-channel responses", title_justify="left")
        for name in ("sent at", "request", "answered by", "latency"):
            responses.add_column(name, justify="right" if name in ("sent at", "latency") else "left")
        for r in breakdown.responses[:20]:
            responses.add_row(_ms(r.sent_at), safe(r.request), safe(r.response), f"{r.latency * 1000:.1f} ms")
        console.print(responses)
    if profile is not None:
        if profile_note:
            console.print(safe(profile_note, style="dim"))
        render_profile(profile, console)
    rtcp = Table(title="RTCP packets", title_justify="left")
    rtcp.add_column("type")
    rtcp.add_column("sent", justify="right")
    rtcp.add_column("received", justify="right")
    for name, sent, received in feedback.rows():
        rtcp.add_row(safe(name), str(sent), str(received))
    console.print(rtcp)
    if detection is not None:
        render_quality(detection, console)
    if impairment is not None:
        render_impairment(impairment, console)


def render_impairment(truth: ImpairmentTruth, console: Console) -> None:
    """One line per direction: what the network did, then what the probe measured."""
    seed = f" (seed {truth.seed})" if truth.seed is not None else ""
    console.print(Text.assemble(("Network impairment", "bold"), safe(seed)))
    for d in truth.directions:
        console.print(Text.assemble((f"  {d.direction} ({WHO[d.direction]}): ", "bold"), safe(d.did),
                                    ("; measured: ", "bold"), safe(d.measured)))

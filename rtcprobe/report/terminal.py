"""Rich terminal views. They render analyzer results and compute nothing."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..analyze.candidates import CandidateSet
from ..analyze.diff import DiffResult
from ..analyze.profile import Profile
from ..sdp import SessionDescription


def render_profile(profile: Profile, console: Console) -> None:
    round_ = f", round {profile.round} of {profile.rounds}" if profile.round else ""
    table = Table(title=Text(f"Profile of {profile.source} ({profile.described}{round_})"), title_justify="left")
    table.add_column("aspect", style="bold")
    table.add_column("what was found")
    for row in profile.rows:
        table.add_row(row.aspect, Text(row.summary))
    console.print(table)
    if profile.dropped:
        console.print("[bold]Offered but dropped by the answer:[/bold]")
        for line in profile.dropped:
            console.print(Text(f"  • {line}"))
    if profile.added:
        console.print("[bold]Answered but never offered (not in use):[/bold]")
        for line in profile.added:
            console.print(Text(f"  • {line}"))


def render_candidates(cset: CandidateSet, console: Console, title: str = "Candidates") -> None:
    if not cset.rows:
        console.print(f"[dim]{title}: none[/dim]")
        return
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("mid", "comp", "transport", "address", "port", "type", "priority", "type/local pref"):
        table.add_column(name, overflow="fold", no_wrap=name != "address", min_width=15 if name == "address" else None)
    notes: dict[str, int] = {}
    for r in cset.rows:
        address = r.address + (" (mDNS)" if r.mdns else "")
        marker = ""
        note = "; ".join(filter(None, [r.priority_note, *r.anomalies]))
        if note:
            marker = f" [{notes.setdefault(note, len(notes) + 1)}]"
        table.add_row(
            Text(str(r.mid or "-")), str(r.component), Text(f"{r.transport.upper()} {r.tcptype or ''}".strip()),
            Text(address), str(r.port), Text(r.type), str(r.priority),
            Text(f"{r.type_preference}/{r.local_preference}{marker}"),
        )
    console.print(table)
    for note, number in notes.items():
        console.print(Text(f"[{number}] {note}", style="dim"))
    console.print(Text(
        f"{cset.count} candidates, {len(cset.addresses)} address(es), transports {', '.join(cset.transports)}, "
        f"end-of-candidates {'present' if cset.end_of_candidates else 'absent'}"
    ))


def render_unknown_attributes(description: SessionDescription, console: Console) -> None:
    lines = [(a, "session") for a in description.unknown_attributes] + [
        (a, m.label) for m in description.media for a in m.unknown_attributes
    ]
    if not lines:
        return
    table = Table(title="Other attributes (kept, not interpreted)", title_justify="left")
    table.add_column("line")
    table.add_column("where")
    table.add_column("attribute")
    for attr, where in lines:
        table.add_row(str(attr.line), Text(where), Text(f"a={attr.name}" + (f":{attr.value}" if attr.value is not None else "")))
    console.print(table)


def render_diff(result: DiffResult, console: Console, show_volatile: bool = True) -> None:
    table = Table(title="Candidate sets", title_justify="left")
    table.add_column("field", style="bold")
    table.add_column(Text(result.label_a), overflow="fold")
    table.add_column(Text(result.label_b), overflow="fold")
    for row in result.candidate_table:
        style = "yellow" if row.changed and not row.volatile else ("dim" if row.volatile else "")
        table.add_row(Text(row.field), Text(row.a, style=style), Text(row.b, style=style))
    console.print(table)
    if result.changes:
        changes = Table(title="Semantic changes", title_justify="left")
        changes.add_column("area")
        changes.add_column("change", overflow="fold")
        for change in result.changes:
            changes.add_row(change.area, Text(change.summary))
        console.print(changes)
    if not result.semantic_change:
        console.print("[green]no semantic change[/green]")
    if show_volatile and result.volatile:
        console.print(f"[dim]Volatile differences ({len(result.volatile)}, expected between sessions):[/dim]")
        for change in result.volatile:
            console.print(Text(f"  {change.summary}", style="dim"))

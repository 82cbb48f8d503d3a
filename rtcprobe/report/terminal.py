"""Rich terminal views. They render analyzer results and compute nothing.

Every string a view shows may come from outside (a server's error body, SDP attributes, candidate
addresses, a peer's messages, a file name): each goes through `printable` and into a `Text`, so
that no escape sequence reaches the terminal and no `[bold]` in it is read as rich markup."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..analyze.candidates import CandidateSet
from ..analyze.diff import MARKERS, DiffResult
from ..analyze.profile import Profile
from ..sdp import SessionDescription

#: Characters a terminal would act on rather than show: C0 controls (ESC, BEL, CR, newline...), DEL,
#: C1 controls (0x9b is CSI on some terminals), and the bidirectional overrides and isolates that
#: reorder what is shown (CVE-2021-42574). Each is shown escaped, as Python writes it.
_UNPRINTABLE = {
    code: (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    for code in [*range(0x20), *range(0x7F, 0xA0), 0x061C, 0x200E, 0x200F, 0x2028, 0x2029,
                 *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
} | {ord("\t"): "\\t", ord("\n"): "\\n", ord("\r"): "\\r"}


def printable(text: object) -> str:
    """A string from outside as a terminal may show it: what a terminal would act on, escaped
    (`\\x1b`, `\\u202e`). The one function every terminal view and message on stderr uses."""
    return str(text).translate(_UNPRINTABLE)


def safe(text: object, style: str = "") -> Text:
    """`printable` text as a rich `Text`: shown as is, never parsed as markup."""
    return Text(printable(text), style=style)


def render_profile(profile: Profile, console: Console) -> None:
    round_ = f", round {profile.round} of {profile.rounds}" if profile.round else ""
    table = Table(title=safe(f"Profile of {profile.source} ({profile.described}{round_})"), title_justify="left")
    table.add_column("aspect", style="bold")
    table.add_column("what was found")
    for row in profile.rows:
        table.add_row(safe(row.aspect), safe(row.summary))
    console.print(table)
    if profile.dropped:
        console.print("[bold]Offered but dropped by the answer:[/bold]")
        for line in profile.dropped:
            console.print(safe(f"  • {line}"))
    if profile.added:
        console.print("[bold]Answered but never offered (not in use):[/bold]")
        for line in profile.added:
            console.print(safe(f"  • {line}"))


#: A terminal table past this many rows is read by nobody and takes rich minutes to lay out
#: (50,000 candidates: 120 s); the rest are counted, and `--json` has them all.
TERMINAL_CANDIDATE_ROWS = 200


def render_candidates(cset: CandidateSet, console: Console, title: str = "Candidates") -> None:
    if not cset.rows:
        console.print(safe(f"{title}: none", style="dim"))
        return
    table = Table(title=safe(title), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("mid", "comp", "transport", "address", "port", "type", "priority", "type/local pref"):
        table.add_column(name, overflow="fold", no_wrap=name != "address", min_width=15 if name == "address" else None)
    notes: dict[str, int] = {}
    for r in cset.rows[:TERMINAL_CANDIDATE_ROWS]:
        address = r.address + (" (mDNS)" if r.mdns else "")
        marker = ""
        note = "; ".join(filter(None, [r.priority_note, *r.anomalies]))
        if note:
            marker = f" [{notes.setdefault(note, len(notes) + 1)}]"
        table.add_row(
            safe(r.mid or "-"), safe(r.component), safe(f"{r.transport.upper()} {r.tcptype or ''}".strip()),
            safe(address), safe(r.port), safe(r.type), safe(r.priority),
            safe(f"{r.type_preference}/{r.local_preference}{marker}"),
        )
    console.print(table)
    if len(cset.rows) > TERMINAL_CANDIDATE_ROWS:
        console.print(safe(f"... and {len(cset.rows) - TERMINAL_CANDIDATE_ROWS} more candidates "
                           "(--json lists every one)", style="dim"))
    for note, number in notes.items():
        console.print(safe(f"[{number}] {note}", style="dim"))
    console.print(safe(
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
        table.add_row(safe(attr.line), safe(where), safe(f"a={attr.name}" + (f":{attr.value}" if attr.value is not None else "")))
    console.print(table)


def render_diff(result: DiffResult, console: Console, show_volatile: bool = True) -> None:
    table = Table(title="Candidate sets (~ changed, v volatile)", title_justify="left")
    table.add_column("", no_wrap=True)
    table.add_column("field", style="bold")
    table.add_column(safe(result.label_a), overflow="fold")
    table.add_column(safe(result.label_b), overflow="fold")
    for row in result.candidate_table:
        style = "yellow" if row.changed and not row.volatile else ("dim" if row.volatile else "")
        marker = "~" if row.changed and not row.volatile else ("v" if row.changed else " ")
        table.add_row(marker, safe(row.field), safe(row.a, style=style), safe(row.b, style=style))
    console.print(table)
    if result.changes:
        changes = Table(title="Semantic changes (+ added, - removed, ~ changed)", title_justify="left")
        changes.add_column("", no_wrap=True)
        changes.add_column("area")
        changes.add_column("change", overflow="fold")
        for change in result.changes:
            kind = change.kind
            style = {"added": "green", "removed": "red"}.get(kind, "yellow")
            changes.add_row(Text(MARKERS[kind], style=style), safe(change.area), safe(change.summary))
        console.print(changes)
    if not result.semantic_change:
        console.print("[green]no semantic change[/green]")
    if show_volatile and result.volatile:
        console.print(f"[dim]Volatile differences ({len(result.volatile)}, expected between sessions; "
                      "v in the marker column):[/dim]")
        for change in result.volatile:
            console.print(safe(f"v {change.summary}", style="dim"))

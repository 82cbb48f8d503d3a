"""Views of scripted voice turns (rtcprobe.analyze.voice): the terminal table, the `--json` part,
and the HTML sections (per-turn waterfall, V2V distribution and breakdown; captures side by side).
Every number comes from `VoiceSummary`; nothing here computes one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..analyze.distribution import Distribution
from ..analyze.voice import PARTS, VoiceSummary
from .html_base import Cell, Markup, image, section, table, tag
from .plots import _figure, _literal_text, to_data_uri
from .terminal import safe

PART_NAMES = {"turn_detection_ms": "turn detection", "server_first_audio_ms": "server to first audio",
              "network_ms": "network (RTT)", "silent_padding_ms": "silent padding"}
COLOURS = {"user": "#4e79a7", "first packet": "#bab0ac", "agent": "#59a14f", "server event": "#e15759",
           "barge-in": "#f28e2b"}


def _ms(value: Any) -> str:
    return "—" if not isinstance(value, int | float) else f"{value:.0f} ms"


def _dist(d: Distribution) -> str:
    if not d.n:
        return "—"
    return f"p50 {d.median:.0f} ms · p90 {d.p90:.0f} ms · max {d.maximum:.0f} ms (n={d.n})"


# -- terminal ---------------------------------------------------------------------------------
def render_voice(summary: VoiceSummary, console: Console) -> None:
    """The turns table, the V2V distribution, the breakdown's medians, and what was not measured."""
    if summary.empty:
        return
    console.print(Text.assemble(("Voice turns ", "bold"), f"{len(summary.turns)} ({summary.answered} answered, "
                                                          f"{summary.unanswered} not)   ",
                                ("V2V ", "bold"), _dist(summary.v2v)))
    grid = Table(title_justify="left")
    for name in ("turn", "utterance", "user end", "first packet", "V2V", *PART_NAMES.values(), "stop"):
        grid.add_column(name, justify="left" if name == "utterance" else "right")
    for turn in summary.turns:
        end = turn.get("user_speech_end")
        grid.add_row(str(turn["index"]), safe(turn["utterance"]), "—" if end is None else f"{end:.3f} s",
                     _ms(turn.get("first_packet_ms")),
                     _ms(turn.get("v2v_ms")) if turn.get("answered") else "[red]no answer[/red]",
                     *[_ms(turn.get(part)) for part in PARTS], _ms(turn.get("interruption_ms")))
    console.print(grid)
    medians = "  ".join(f"{PART_NAMES[p]} {_ms(summary.parts[p].median)}" for p in PARTS if summary.parts[p].n)
    if medians:
        console.print(Text.assemble(("breakdown (medians) ", "bold"), medians))
    if summary.first_packet.n:
        console.print(Text.assemble(("first answer packet ", "bold"), _dist(summary.first_packet)))
    if summary.interruption.n:
        console.print(Text.assemble(("barge-in: agent stopped after ", "bold"), _dist(summary.interruption)))
    reasons = sorted({f"{field}: {why}" for t in summary.turns for field, why in (t.get("unmeasured") or {}).items()})
    for reason in reasons:
        console.print(safe(f"  not measured — {reason}", "dim"))


def voice_json(summary: VoiceSummary) -> dict[str, Any] | None:
    """The `voice` part of `capture --json` (None without turns)."""
    if summary.empty:
        return None
    return {"turns": summary.turns, "answered": summary.answered, "unanswered": summary.unanswered,
            "v2v_ms": summary.v2v, "first_packet_ms": summary.first_packet, "interruption_ms": summary.interruption,
            "breakdown_ms": summary.parts}


# -- HTML: one capture ------------------------------------------------------------------------
#: A marker per realtime event type in the waterfall (others: a dot).
EVENT_MARKERS = {"input_audio_buffer.speech_stopped": "v", "response.created": "s",
                 "output_audio_buffer.started": "^", "response.done": "D", "output_audio_buffer.cleared": "x"}


@_literal_text
def turn_waterfall(summary: VoiceSummary) -> str:
    """Per turn, in ms from the end of the user's speech: the user's speech, the service's events
    (arrival), the first answer packet, the agent's audible speech (and a barge-in)."""
    turns = summary.turns
    figure = _figure(9, 1.2 + 0.5 * max(len(turns), 1))
    ax = figure.add_subplot()
    labelled: set[str] = set()

    def once(name: str) -> str | None:
        if name in labelled:
            return None
        labelled.add(name)
        return name

    horizon = 0.0
    for row, turn in enumerate(turns):
        start, end = turn.get("user_speech_start"), turn.get("user_speech_end")
        if end is None:
            ax.text(0, row, "  the user's speech end was not seen", va="center", fontsize=8, color="#c00")
            continue
        if start is not None:
            ax.barh(row, (end - start) * 1000, left=(start - end) * 1000, height=0.4, color=COLOURS["user"],
                    label=once("user speech"))
        a_start, a_end = turn.get("agent_speech_start"), turn.get("agent_speech_end")
        if a_start is not None:
            right = ((a_end or a_start) - end) * 1000
            ax.barh(row, max(right - turn["v2v_ms"], 20.0), left=turn["v2v_ms"], height=0.4, color=COLOURS["agent"],
                    label=once("agent speech (audible)"))
            ax.text(turn["v2v_ms"], row - 0.32, f"V2V {turn['v2v_ms']:.0f} ms", fontsize=8)
            horizon = max(horizon, right)
        else:
            ax.text(0, row - 0.32, "  no answer", fontsize=8, color="#c00")
        packet = turn.get("agent_first_packet")
        if packet is not None:
            ax.plot([(packet - end) * 1000], [row], marker="|", markersize=16, color=COLOURS["first packet"],
                    label=once("first answer packet"))
        for kind, offset in (turn.get("server_events") or {}).items():
            ax.plot([offset], [row + 0.3], marker=EVENT_MARKERS.get(kind, "."), markersize=5, linestyle="none",
                    color=COLOURS["server event"], label=once(kind))
        barge = turn.get("barge_in_start")
        if barge is not None:
            ax.plot([(barge - end) * 1000], [row], marker="x", color=COLOURS["barge-in"], label=once("barge-in"))
    ax.axvline(0, color="#555", linewidth=0.8)
    ax.set_yticks(range(len(turns)), [f"{t['index']}: {t['utterance']}" for t in turns])
    ax.invert_yaxis()
    ax.set_xlabel("ms from the end of the user's speech (packet times at the probe)")
    ax.set_xlim(right=max(horizon, 1000) * 1.05)
    ax.grid(axis="x", alpha=0.3)
    if turns:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
    return to_data_uri(figure)


def voice_section(summary: VoiceSummary, anchor: str) -> Markup:
    """The turns of one capture; empty without turns."""
    if summary.empty:
        return Markup("")
    rows = []
    for turn in summary.turns:
        why = "; ".join(f"{k}: {v}" for k, v in (turn.get("unmeasured") or {}).items())
        rows.append([turn["index"], turn["utterance"],
                     Cell(_ms(turn.get("v2v_ms")) if turn.get("answered") else "no answer",
                          "num" if turn.get("answered") else "bad"),
                     Cell(_ms(turn.get("first_packet_ms")), "num"),
                     *[Cell(_ms(turn.get(p)), "num") for p in PARTS],
                     Cell(_ms(turn.get("interruption_ms")), "num"), why])
    breakdown = table(["", "p50", "p90", "max", "turns"],
                      [[name, *_cells(d)] for name, d in (("V2V", summary.v2v), ("first answer packet", summary.first_packet),
                                                          *[(PART_NAMES[p], summary.parts[p]) for p in PARTS],
                                                          ("barge-in stop", summary.interruption))])
    return section(f"{anchor}voice", "Voice turns",
                   tag("p", f"{len(summary.turns)} turns, {summary.answered} answered. V2V = first audible answer "
                            "audio arriving − the last packet of the user's speech leaving; network = RTT (half each "
                            "way); server events placed at arrival − RTT/2.", class_="muted"),
                   breakdown,
                   image(turn_waterfall(summary), "voice turns on the capture clock"),
                   table(["turn", "utterance", "V2V", "first packet", *PART_NAMES.values(), "barge-in stop",
                          "not measured"], rows))


def _cells(d: Distribution) -> list[Cell]:
    return [Cell(_ms(d.median), "num"), Cell(_ms(d.p90), "num"), Cell(_ms(d.maximum), "num"), Cell(str(d.n), "num")]


# -- HTML: captures side by side --------------------------------------------------------------
@_literal_text
def v2v_strip(labels: Sequence[str], summaries: Sequence[VoiceSummary]) -> str:
    figure = _figure(9, 3.5)
    ax = figure.add_subplot()
    for column, summary in enumerate(summaries):
        values = [t["v2v_ms"] for t in summary.turns if isinstance(t.get("v2v_ms"), int | float)]
        ax.plot([column] * len(values), values, "o", alpha=0.6, color=COLOURS["agent"])
        if summary.v2v.median is not None:
            ax.plot([column - 0.25, column + 0.25], [summary.v2v.median] * 2, color="black")
    ax.set_xticks(range(len(labels)), [label[:24] for label in labels], rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("V2V (ms)")
    ax.grid(axis="y", alpha=0.3)
    return to_data_uri(figure)


def voice_compare(labels: Sequence[str], anchors: Sequence[str], summaries: Sequence[VoiceSummary]) -> Markup:
    """V2V and its breakdown per capture, one row each (only captures with turns)."""
    chosen = [(label, anchor, s) for label, anchor, s in zip(labels, anchors, summaries, strict=True) if not s.empty]
    if not chosen:
        return Markup("")
    rows = [[tag("a", label, href=f"#{anchor}voice"), Cell(str(len(s.turns)), "num"), Cell(str(s.unanswered), "num"),
             *_cells(s.v2v)[:3], *[Cell(_ms(s.parts[p].median), "num") for p in PARTS],
             Cell(_ms(s.interruption.median), "num")] for label, anchor, s in chosen]
    return section("voice-compare", "Voice-to-voice latency across captures",
                   table(["capture", "turns", "no answer", "V2V p50", "p90", "max",
                          *[f"{PART_NAMES[p]} (median)" for p in PARTS], "barge-in stop"], rows),
                   image(v2v_strip([c[0] for c in chosen], [c[2] for c in chosen]), "V2V per capture"))


"""Views of a load's summary: the JSON document, the terminal table and the HTML page (load.html).

They render what rtcprobe.loadtest.summary computed; nothing here derives a figure.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ..redact import redact_url
from .html_base import PAGE_TAIL, esc, page_head, section, table, tag
from .terminal import safe

#: metric -> (label, unit)
LABELS = {"http": ("HTTP (offer → answer)", "ms"), "ice": ("ICE", "ms"), "dtls": ("DTLS", "ms"),
          "first_media": ("first media", "ms"), "connected": ("to connected (ICE+DTLS)", "ms"),
          "connect": ("connect (to media)", "ms"),
          "loss_pct": ("loss received", "%"), "rtt": ("RTT (ICE, median per session)", "ms"),
          "v2v": ("voice-to-voice (per turn)", "ms")}


def summary_document(result: Any, outcomes: list[dict[str, Any]], *, target: str, backend: str,
                     workers: int | None, wall_s: float, plan: Any) -> dict[str, Any]:
    """The `--json` / load.json document: the plan, the summary and every session's outcome."""
    return {"target": redact_url(target), "backend": backend, "workers": workers,
            "sessions": result.sessions, "concurrency": plan.concurrency, "rate_per_s": plan.rate,
            "lite": plan.template.lite, "audio_only": not plan.template.video,
            "duration_s": plan.template.duration, "max_retry_after_s": plan.retry_after_max,
            "wall_s": round(wall_s, 3), "output": str(plan.out_dir),
            "completed": result.completed, "failed": result.failed, "retried_after_503": result.retried,
            "failure_examples": result.examples,
            "metrics": {name: asdict(p) for name, p in result.metrics.items()},
            "outcomes": outcomes}


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    return f"{value:.2f} %" if unit == "%" else f"{value:.0f} ms"


def _rows(document: dict[str, Any]) -> list[list[str]]:
    return [[label, str(m["n"]), _value(m["p50"], unit), _value(m["p95"], unit), _value(m["maximum"], unit)]
            for name, (label, unit) in LABELS.items() if (m := document["metrics"][name])["n"]]


def _headline(document: dict[str, Any]) -> str:
    failed = sum(document["failed"].values())
    text = (f"{document['completed']}/{document['sessions']} sessions completed, {failed} failed "
            f"({document['backend']}, {document['wall_s']:.1f} s)")
    if document["retried_after_503"]:
        text += f"; {document['retried_after_503']} answered 503 and retried once after Retry-After"
    return text


def render_load(document: dict[str, Any], out: Console) -> None:
    out.print(f"[bold]load[/bold] {safe(document['target'])}: {safe(_headline(document))}")
    for reason, n in document["failed"].items():
        out.print(f"  failed: {safe(reason)} × {n} — e.g. {safe(document['failure_examples'].get(reason, ''))}")
    grid = Table("metric", "sessions", "p50", "p95", "max")
    for row in _rows(document):
        grid.add_row(*row)
    out.print(grid)
    out.print(f"captures, load.json and load.html in {safe(document['output'])}")


def write_load_html(path: Path, document: dict[str, Any]) -> None:
    failures = table(["reason", "sessions", "example"],
                     [[reason, str(n), document["failure_examples"].get(reason, "")]
                      for reason, n in document["failed"].items()]) if document["failed"] else tag("p", "none")
    body = section("load", f"Load: {document['target']}", tag("p", _headline(document)),
                   tag("h3", "Failed, by reason"), failures,
                   tag("h3", "Percentiles"), table(["metric", "sessions", "p50", "p95", "max"], _rows(document)),
                   tag("h3", "Sessions"),
                   table(["#", "capture", "result", "connect"],
                         [[str(o["index"]), o["capture"], o["failure"] or "completed",
                           _value(o["figures"].get("connect"), "ms")] for o in document["outcomes"]]))
    path.write_text(str(page_head(f"rtcprobe load {document['target']}") + esc(body) + PAGE_TAIL), encoding="utf-8")

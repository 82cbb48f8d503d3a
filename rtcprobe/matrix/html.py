"""The matrix as a self-contained HTML page (html_base: every value escaped, no script)."""

from __future__ import annotations

from ..report.html_base import PAGE_TAIL, Cell, join, page_head, section, table, tag
from .result import MatrixResult

VERDICT_CLASS = {"accepted": "good", "dropped": "warn", "rejected": "bad", "refused": "bad", "not offered": "muted"}


def matrix_html(result: MatrixResult, title: str | None = None) -> str:
    heading = title or f"Capability matrix of {result.target}"
    counts = ", ".join(f"{n} {verdict}" for verdict, n in sorted(result.counts().items()))
    headers = ["variant", "what is offered", "HTTP", "verdict", "answered codec", "detail"]
    if result.media:
        headers.append("media flows")
    rows = []
    for row in result.rows:
        cells = [tag("code", row.variant), row.about, "—" if row.http_status is None else str(row.http_status),
                 Cell(row.verdict, VERDICT_CLASS.get(row.verdict)), row.answered or "—", Cell(row.detail, "wrap")]
        if result.media:
            cells.append(row.media or "—")
        rows.append(cells)
    body = join([tag("h1", heading), tag("p", f"{result.started} · {len(result.rows)} variants: {counts}",
                                         class_="meta"),
                 section("matrix", "Variants", table(headers, rows))])
    return page_head(heading) + body + PAGE_TAIL

"""HTML building blocks for the report: every value is escaped unless it is `Markup` we built.

Data in a capture comes from untrusted servers (SDP, data-channel payloads, HTTP bodies and headers,
diagnoses quoting them). The rule that keeps the report safe is structural: text only reaches the
page through `esc` (``html.escape`` with quotes), and only the helpers here produce `Markup`. The
page carries no script at all and a Content-Security-Policy that forbids scripts and every network
fetch (images must be ``data:`` URIs), so even a missed escape could neither run nor phone home.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

#: No scripts, no fetches; inline styles and data: images only. `default-src 'none'` also blocks
#: fonts, frames, media, objects and form targets.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

CSS = """
:root { --fg: #1d2330; --muted: #5c6577; --line: #d9dee7; --bg: #ffffff; --soft: #f5f7fa;
        --bad: #b42318; --bad-bg: #fef3f2; --good: #067647; --warn: #b54708; --mark: #fff4c2; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; max-width: 1180px; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.meta, .muted { color: var(--muted); }
table { border-collapse: collapse; margin: 6px 0 12px; width: auto; max-width: 100%; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; white-space: nowrap; }
td.wrap, td code { overflow-wrap: anywhere; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.addr, .addr, div.pairs td:nth-child(-n+2) { white-space: nowrap; }  /* IP:port never broken mid-address */
div.pairs, div.wide { overflow-x: auto; max-width: 100%; }
table.candidates td:last-child { min-width: 16em; }
tr.selected td { background: var(--mark); font-weight: 600; }
tr.changed td { background: var(--mark); }
tr.bad td, td.bad { color: var(--bad); }
.good { color: var(--good); } .warn { color: var(--warn); } .bad { color: var(--bad); }
section.failure { border: 2px solid var(--bad); background: var(--bad-bg); border-radius: 6px;
                  padding: 12px 16px; margin: 12px 0 20px; }
section.failure h2 { color: var(--bad); border: none; margin-top: 0; }
section.capture { margin-top: 36px; }
details { margin: 6px 0; }
details > summary { cursor: pointer; color: var(--fg); font-weight: 600; }
pre { background: var(--soft); border: 1px solid var(--line); padding: 8px; overflow-x: auto;
      font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap;
      overflow-wrap: anywhere; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
img.plot { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); margin: 6px 0 12px; }
nav.toc a { margin-right: 12px; }
nav.toc { margin: 8px 0 16px; }
"""


class Markup(str):
    """HTML that this module built (already escaped); anything else is text and gets escaped."""

    def __add__(self, other: object) -> Markup:
        return Markup(str.__add__(self, esc(other)))

    def __radd__(self, other: object) -> Markup:
        return Markup(str.__add__(esc(other), self))


#: What a missing value shows: an em dash.
DASH = Markup("&mdash;")


def esc(value: Any) -> Markup:
    """Text for HTML: Markup passes through, None is a dash, everything else is escaped.

    Non-ASCII characters become character references, so the report is pure ASCII: it reads the
    same whatever charset a mail client assumes, and Python keeps it at one byte per character."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return DASH
    text = html.escape(str(value), quote=True)
    return Markup(text if text.isascii() else text.encode("ascii", "xmlcharrefreplace").decode("ascii"))


def join(parts: Iterable[Any], separator: str = "") -> Markup:
    return Markup(separator.join(esc(p) for p in parts))


def tag(name: str, content: Any = "", **attributes: Any) -> Markup:
    """<name attr="...">content</name>; attribute values escaped, `class_` for class."""
    attrs = "".join(f' {k.rstrip("_").replace("_", "-")}="{esc(v)}"' for k, v in attributes.items() if v is not None)
    return Markup(f"<{name}{attrs}>{esc(content)}</{name}>")


def number(value: float | int | None, unit: str = "", digits: int = 0) -> Markup:
    if value is None:
        return DASH
    return esc(f"{value:,.{digits}f}{unit}")


def ms(seconds: float | None) -> Markup:
    """Seconds as milliseconds, with a decimal below 10 ms."""
    if seconds is None:
        return DASH
    value = seconds * 1000
    return esc(f"{value:.1f} ms" if value < 10 else f"{value:,.0f} ms")


class Cell:
    """A table cell with a class (num, bad ...)."""

    def __init__(self, content: Any, class_: str | None = None) -> None:
        self.content = content
        self.class_ = class_


def table(headers: Sequence[str] | None, rows: Iterable[Sequence[Any]],
          row_classes: Sequence[str | None] | None = None, class_: str | None = None) -> Markup:
    """A table; `headers` None for a key/value table without a header row. Cells are text, Markup or `Cell`."""
    head = f"<thead><tr>{join(tag('th', h) for h in headers)}</tr></thead>" if headers is not None else ""
    body = []
    for i, row in enumerate(rows):
        cells = join(tag("td", c.content, class_=c.class_) if isinstance(c, Cell) else tag("td", c) for c in row)
        row_class = row_classes[i] if row_classes is not None and i < len(row_classes) else None
        body.append(tag("tr", cells, class_=row_class))
    return tag("table", Markup(head) + join(body), class_=class_)


def details(summary: Any, content: Any, open_: bool = False) -> Markup:
    """Collapsible without script: <details>/<summary>."""
    return Markup(f"<details{' open' if open_ else ''}><summary>{esc(summary)}</summary>{esc(content)}</details>")


def pre(text: Any) -> Markup:
    return tag("pre", text)


def image(data_uri: str, alt: str) -> Markup:
    """A plot; only PNG data URIs pass (the CSP would block anything else anyway)."""
    if not data_uri.startswith("data:image/png;base64,"):
        raise ValueError("plots must be PNG data URIs")
    return Markup(f'<img class="plot" src="{esc(data_uri)}" alt="{esc(alt)}">')


def section(id_: str, title: Any, *content: Any, class_: str | None = None) -> Markup:
    return tag("section", tag("h2", title) + join(content), id=id_, class_=class_)


def page_head(title: str) -> Markup:
    """Everything before the body's content: UTF-8, CSP, inline CSS, no script."""
    return Markup(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
    )


PAGE_TAIL = Markup("</body></html>\n")

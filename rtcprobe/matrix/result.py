"""A matrix result (`*.matrix.json`) and the diff of two: "since last month VP9 is dropped"."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, load_json, read_text_file
from .classify import Row

FORMAT = "rtcprobe_matrix"
VERSION = 1
SUFFIX = ".matrix.json"
#: the row fields whose change is a change of the service (the capture path and wording are not)
COMPARED = ("verdict", "answered", "http_status", "media")


@dataclass
class MatrixResult:
    target: str  # redacted
    started: str  # ISO 8601 UTC
    rows: list[Row] = field(default_factory=list)
    media: bool = False

    def document(self) -> dict[str, Any]:
        return {FORMAT: VERSION, "target": self.target, "started": self.started, "media": self.media,
                "rows": [asdict(r) for r in self.rows]}

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for row in self.rows:
            out[row.verdict] = out.get(row.verdict, 0) + 1
        return out

    def accepted(self) -> list[str]:
        return [r.variant for r in self.rows if r.verdict == "accepted"]


def is_matrix_file(path: str | Path) -> bool:
    return str(path).endswith(SUFFIX)


def write_matrix(result: MatrixResult, path: Path) -> None:
    path.write_text(json.dumps(result.document(), indent=1) + "\n", encoding="utf-8")


def load_matrix(path: str | Path) -> MatrixResult:
    data = load_json(read_text_file(path, "a matrix result (.matrix.json)"), str(path))
    if not isinstance(data, dict) or data.get(FORMAT) != VERSION or not isinstance(data.get("rows"), list):
        raise InputError(f'not a matrix result: expected {{"{FORMAT}": {VERSION}, "rows": [...]}} '
                         "as `rtcprobe matrix --json` or -o DIR writes", str(path))
    try:
        rows = [Row(**row) for row in data["rows"]]
    except TypeError as exc:
        raise InputError(f"a row is not a matrix row ({exc})", str(path)) from None
    return MatrixResult(str(data.get("target", "")), str(data.get("started", "")), rows, bool(data.get("media")))


@dataclass
class MatrixChange:
    variant: str
    what: str  # verdict, answered, http_status, media, or "variant" (only in one result)
    a: Any
    b: Any

    @property
    def summary(self) -> str:
        show = lambda v: "none" if v in (None, "") else str(v)  # noqa: E731
        if self.what == "variant":
            return f"{self.variant}: {'only in B' if self.a is None else 'only in A'}"
        return f"{self.variant}: {self.what} {show(self.a)} → {show(self.b)}"


def diff_matrices(a: MatrixResult, b: MatrixResult) -> list[MatrixChange]:
    """Per variant (by name), what changed; a variant tried in one result only is said so."""
    rows_a, rows_b = {r.variant: r for r in a.rows}, {r.variant: r for r in b.rows}
    out = []
    for name in [*rows_a, *(n for n in rows_b if n not in rows_a)]:
        ra, rb = rows_a.get(name), rows_b.get(name)
        if ra is None or rb is None:
            out.append(MatrixChange(name, "variant", ra and ra.verdict, rb and rb.verdict))
            continue
        for what in COMPARED:
            va, vb = getattr(ra, what), getattr(rb, what)
            if what == "media" and (va is None or vb is None):
                continue  # --media in one run only: not compared
            if what == "media":
                va, vb = va.split(":")[0], vb.split(":")[0]
            if va != vb:
                out.append(MatrixChange(name, what, va, vb))
    return out

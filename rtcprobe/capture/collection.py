"""Many captures at once: `load_many("captures/*.jsonl")` and frames that compare sessions."""

from __future__ import annotations

import glob as globbing
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .model import Capture
from .reader import load
from .views import view

if TYPE_CHECKING:
    import pandas as pd


def expand(patterns: str | Path | Iterable[str | Path]) -> list[Path]:
    """Paths from globs and plain paths, each pattern's matches sorted, duplicates dropped."""
    return list(_expand(patterns))


def _expand(patterns: str | Path | Iterable[str | Path]) -> dict[Path, bool]:
    """Path -> whether it was named (True) or only matched by a glob (False). A path that exists is
    taken literally even when it holds glob characters (`[`, `*`, `?`)."""
    if isinstance(patterns, str | Path):
        patterns = [patterns]
    out: dict[Path, bool] = {}
    for pattern in patterns:
        text = str(pattern)
        if globbing.has_magic(text) and not Path(text).exists():  # `call[1].jsonl` that exists is that file
            matches = sorted(globbing.glob(text, recursive=True))
            if not matches:
                raise InputError("no capture matches this pattern", text)
            for match in matches:
                out.setdefault(Path(match), False)
        else:
            out[Path(text)] = True
    return out


@dataclass
class CaptureSet:
    """Several captures; every frame method returns one frame with a leading `capture` id column."""

    captures: list[Capture] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per file a glob matched that is no capture

    def __post_init__(self) -> None:
        seen: dict[str, int] = {}
        for capture in self.captures:  # ids must tell captures apart in the `capture` column
            seen[capture.id] = seen.get(capture.id, 0) + 1
        self._use_paths = any(n > 1 for n in seen.values())

    def __len__(self) -> int:
        return len(self.captures)

    def __iter__(self) -> Iterator[Capture]:
        return iter(self.captures)

    def __getitem__(self, index: int) -> Capture:
        return self.captures[index]

    @property
    def ids(self) -> list[str]:
        return [c.path if self._use_paths else c.id for c in self.captures]

    def _frame(self, name: str, *args: object) -> pd.DataFrame:
        build = view("frame", name)
        return view("frame", "concat")(self.captures, lambda c: build(c, *args), self.ids)

    def candidates(self) -> pd.DataFrame:
        return self._frame("candidates")

    def timeline(self) -> pd.DataFrame:
        return self._frame("timeline")

    def stats(self) -> pd.DataFrame:
        return self._frame("stats")

    def stats_wide(self, type: str | None = None) -> pd.DataFrame:  # noqa: A002
        return self._frame("stats_wide", type)

    def rtcp(self) -> pd.DataFrame:
        return self._frame("rtcp")

    def datachannel(self) -> pd.DataFrame:
        return self._frame("datachannel")

    def latency(self) -> pd.DataFrame:
        return self._frame("latency")

    def turns(self) -> pd.DataFrame:
        return self._frame("turns")

    def _repr_html_(self) -> str:
        return view("html", "collection_html")(self.captures)

    def __repr__(self) -> str:
        return f"<CaptureSet of {len(self.captures)}: {', '.join(self.ids[:5])}{' ...' if len(self) > 5 else ''}>"


def load_many(patterns: str | Path | Iterable[str | Path]) -> CaptureSet:
    """Load every capture matching the glob(s), e.g. ``load_many("captures/demo-*.jsonl")``.

    A file a glob matched that is not a capture is skipped with a warning (and listed in
    `skipped`), so that one stray file does not cost the comparison; a file named outright must load."""
    captures, skipped = [], []
    for path, named in _expand(patterns).items():
        try:
            captures.append(load(path))
        except InputError as exc:
            if named:
                raise
            skipped.append(str(exc))
            warnings.warn(f"skipped: {exc}", stacklevel=2)
    return CaptureSet(captures, skipped)

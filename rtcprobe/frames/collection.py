"""Frames of many captures in one: the same columns with a leading `capture` id column."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from ..capture import Capture
from ._schema import TEXT


def concat(captures: Sequence[Capture], frame: Callable[[Capture], pd.DataFrame],
           ids: Sequence[str] | None = None) -> pd.DataFrame:
    """`frame(capture)` for each capture, stacked, `capture` (the id, or `ids[i]`) first; index reset."""
    parts = []
    for i, capture in enumerate(captures):
        part = frame(capture)
        name = ids[i] if ids is not None else capture.id
        part.insert(0, "capture", pd.Series([name] * len(part), index=part.index, dtype=TEXT))
        parts.append(part)
    if not parts:
        return pd.DataFrame({"capture": pd.Series([], dtype=TEXT)})
    full = [p for p in parts if len(p)]
    if not full:
        return parts[0]
    # Frames whose columns depend on the data (stats_wide) are aligned by name; missing ones become NA.
    return pd.concat(full, ignore_index=True, sort=False)

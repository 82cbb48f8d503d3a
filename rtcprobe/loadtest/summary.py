"""A load's summary: sessions completed, failed by reason, and percentiles of each metric."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .outcome import METRICS


@dataclass(frozen=True)
class Percentiles:
    """p50/p95/max over the sessions that have the metric (n of them); None when none has it."""

    n: int
    p50: float | None
    p95: float | None
    maximum: float | None


def percentiles(values: list[float]) -> Percentiles:
    """Linear interpolation between closest ranks (as analyze.distribution and numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return Percentiles(0, None, None, None)
    if len(ordered) == 1:
        return Percentiles(1, ordered[0], ordered[0], ordered[0])
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return Percentiles(len(ordered), round(cuts[49], 3), round(cuts[94], 3), ordered[-1])


@dataclass
class LoadSummary:
    sessions: int  # asked for
    completed: int
    failed: dict[str, int]  # failure label -> sessions, most frequent first
    retried: int  # sessions answered 503 whose Retry-After was honoured once
    metrics: dict[str, Percentiles] = field(default_factory=dict)  # outcome.METRICS -> percentiles
    examples: dict[str, str] = field(default_factory=dict)  # failure label -> one diagnosis

    @property
    def finished(self) -> int:
        return self.completed + sum(self.failed.values())


def summarise(outcomes: list[dict[str, Any]], sessions: int) -> LoadSummary:
    """Aggregate Outcome dicts. Set-up metrics count every session that got that far (a session that
    failed later still connected); V2V pools every answered turn of every session."""
    failures = Counter(o["failure"] for o in outcomes if o["failure"])
    examples: dict[str, str] = {}
    for o in outcomes:
        if o["failure"]:
            examples.setdefault(o["failure"], o["diagnosis"])
    metrics = {name: percentiles([o["figures"][name] for o in outcomes if o["figures"].get(name) is not None])
               for name in METRICS if name != "v2v"}
    metrics["v2v"] = percentiles([v for o in outcomes for v in o["v2v"]])
    return LoadSummary(sessions, sum(1 for o in outcomes if not o["failure"]), dict(failures.most_common()),
                       sum(1 for o in outcomes if o["retried"]), metrics, examples)

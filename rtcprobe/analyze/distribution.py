"""Summary numbers of a set of measurements (latencies): n, min, median, 90th percentile, max."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Distribution:
    n: int
    minimum: float | None
    median: float | None
    p90: float | None
    maximum: float | None


def _quantile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on sorted values."""
    position = (len(values) - 1) * q
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def distribution(values: list[float]) -> Distribution:
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return Distribution(0, None, None, None, None)
    return Distribution(len(ordered), ordered[0], _quantile(ordered, 0.5), _quantile(ordered, 0.9), ordered[-1])

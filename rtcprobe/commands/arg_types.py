"""Argument value types that turn a nonsensical number into a usage error (exit 2, one line) before
anything starts: `--duration -1`, `--stats-interval 0`, `--fps 0`, a negative timeout."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable


def _number(kind: str, low: float, inclusive: bool, cast: Callable[[str], float] = float) -> Callable[[str], float]:
    bound = f"{'>=' if inclusive else '>'} {low:g}"

    def parse(text: str) -> float:
        try:
            value = cast(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind} {bound}, got {text!r}") from None
        if not math.isfinite(value) or value < low or (value == low and not inclusive):
            raise argparse.ArgumentTypeError(f"expected {kind} {bound}, got {text!r}")
        return value

    parse.__name__ = kind.replace(" ", "_")  # argparse names the type in some messages
    return parse


#: seconds that may be 0 (`--duration 0`: connect, then close)
non_negative_seconds = _number("seconds", 0, inclusive=True)
#: seconds that must be more than 0 (a stats interval, a timeout)
positive_seconds = _number("seconds", 0, inclusive=False)
#: milliseconds >= 0
non_negative_ms = _number("milliseconds", 0, inclusive=True)
#: frames per second > 0 (the upper bound is the test pattern's, checked with the size)
positive_fps = _number("frames per second", 0, inclusive=False)
#: a count >= 0
non_negative_int = _number("a whole number", 0, inclusive=True, cast=int)
#: a count >= 1 (`load --sessions`)
positive_int = _number("a whole number", 1, inclusive=True, cast=int)

"""Lists in sentences, as the profile and diff tables say them."""

from __future__ import annotations


def join_words(items: list[str], last: str = "and") -> str:
    """`a`, `a and b`, `a, b and c` (or `or`)."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"

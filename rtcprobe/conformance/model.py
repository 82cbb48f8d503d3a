"""What a conformance check is and what it returns: one requirement of RFC 9725 (WHIP) or
draft-ietf-wish-whep (WHEP), the section that states it, and the evidence that decided it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client import Checker

PASS, FAIL, WARN, SKIP = "pass", "fail", "warn", "skip"


@dataclass
class CheckResult:
    """One row of `rtcprobe check`: `evidence` is the status, header or packet count that decided it."""

    id: str
    section: str
    requirement: str
    result: str
    evidence: str


@dataclass
class Requirement:
    id: str
    section: str
    requirement: str
    run: Callable[[Checker], Awaitable[tuple[str, str]]]
    protocols: tuple[str, ...] = ("whip", "whep")


#: Every requirement in the order the checks run (the session-ending ones last).
REQUIREMENTS: list[Requirement] = []


def requirement(id: str, section: str, text: str, protocols: tuple[str, ...] = ("whip", "whep"),
                ) -> Callable[[Callable[[Checker], Awaitable[tuple[str, str]]]],
                              Callable[[Checker], Awaitable[tuple[str, str]]]]:
    """Register a check: an async function of the Checker returning (result, evidence)."""

    def register(run: Callable[[Checker], Awaitable[tuple[str, str]]]
                 ) -> Callable[[Checker], Awaitable[tuple[str, str]]]:
        REQUIREMENTS.append(Requirement(id, section, text, run, protocols))
        return run

    return register


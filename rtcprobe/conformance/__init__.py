"""`rtcprobe check`: one check per requirement of RFC 9725 (WHIP) and draft-ietf-wish-whep (WHEP),
each a real HTTP exchange and, where the requirement is about media, a real session."""

from __future__ import annotations

import aiohttp

from ..redact import redact_text
from . import delete, link, methods, options, patch, post, redirects, restart, whep
from .client import Checker
from .model import FAIL, PASS, REQUIREMENTS, SKIP, WARN, CheckResult, Requirement

__all__ = ["FAIL", "PASS", "SKIP", "WARN", "CheckResult", "known_ids", "run_checks"]


#: Run order: the session's own facts first, the session-ending checks (delete, then restart) last.
MODULES = (post, options, link, patch, methods, redirects, whep, delete, restart)


def ordered(protocol: str) -> list[Requirement]:
    rank = {module.__name__: i for i, module in enumerate(MODULES)}
    mine = [r for r in REQUIREMENTS if protocol in r.protocols]
    return sorted(mine, key=lambda r: rank[r.run.__module__])  # stable: file order within a module


def known_ids(protocol: str) -> list[str]:
    return [r.id for r in ordered(protocol)]


async def run_checks(url: str, protocol: str = "whip", token: str | None = None,
                     only: list[str] | None = None, timeout: float = 10.0) -> list[CheckResult]:
    """Run the checks in order on one Checker; a check that raises on the network is a fail with
    the error as its evidence (the next ones still run)."""
    results = []
    async with Checker(url, protocol, token, timeout) as ck:
        await ck.open_session()
        for req in ordered(protocol):
            if only and req.id not in only and not _needed(req.id, only):
                continue
            try:
                result, evidence = await req.run(ck)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                result, evidence = FAIL, f"{type(exc).__name__}: {exc or 'timed out'}"
            if only and req.id not in only:
                continue
            results.append(CheckResult(req.id, req.section, req.requirement, result, redact_text(evidence)))
    return results


def _needed(id: str, only: list[str]) -> bool:
    """Checks whose exchanges later checks read: run them even when not shown."""
    feeds = {"patch.sdpfrag": ("patch.", "delete.media_stops"), "location.resolves": ("patch.", "delete.", "methods.resource"),
             "delete.status": ("delete.media_stops",), "restart.accepted": ("restart.", "patch.unsupported")}
    return any(o.startswith(p) or o == p for o in only for p in feeds.get(id, ()))

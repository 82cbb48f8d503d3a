"""Load balancing (RFC 9725 §4.5): a redirect of the POST is a 307 (it keeps method and body), and
a busy server answers 503 with Retry-After, which the checker honours once."""

from __future__ import annotations

from .client import Checker
from .model import FAIL, PASS, SKIP, WARN, requirement


@requirement("redirect.307", "RFC 9725 §4.5",
             "a redirect of the POST is never 301 or 302 (they turn POST into GET); 307 is the one to use")
async def redirect_307(ck: Checker) -> tuple[str, str]:
    hops = [r for r in ck.redirects if r.status // 100 == 3]
    if not hops:
        return SKIP, "the POST was not redirected"
    shown = "; ".join(f"{r.shown}, Location: {r.headers.get('Location', '(none)')}" for r in hops)
    if any(r.status in (301, 302) for r in hops):
        return FAIL, shown
    if any(r.status != 307 for r in hops):
        return WARN, shown + " (307 is the preferred redirect)"
    return PASS, shown


@requirement("busy.retry_after", "RFC 9725 §4.5; RFC 9110 §10.2.3",
             "a 503 to the POST says when to retry in Retry-After (honoured: the checker retries once after it)")
async def retry_after(ck: Checker) -> tuple[str, str]:
    busy = [r for r in ck.redirects if r.status == 503]
    if not busy:
        return SKIP, "the server did not answer 503"
    value = busy[0].headers.get("Retry-After")
    if value is None:
        return WARN, f"{busy[0].shown} without Retry-After (the RFC says it might be sent)"
    after = ck.post.shown if ck.post is not None else "no retry"
    return PASS, f"{busy[0].shown}, Retry-After: {value}; retried: {after}"

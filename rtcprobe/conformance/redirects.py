"""Load balancing (RFC 9725 §4.5): a redirect of the POST is a 307 (it keeps method and body), and
a busy server answers 503 with Retry-After, which the checker honours once."""

from __future__ import annotations

from .client import Checker
from .model import FAIL, PASS, SKIP, requirement


@requirement("redirect.307", "RFC 9725 §4.5", "a redirect of the POST uses 307 Temporary Redirect only")
async def redirect_307(ck: Checker) -> tuple[str, str]:
    hops = [r for r in ck.redirects if r.status // 100 == 3]
    if not hops:
        return SKIP, "the POST was not redirected"
    wrong = [r for r in hops if r.status != 307]
    shown = "; ".join(f"{r.shown}, Location: {r.headers.get('Location', '(none)')}" for r in hops)
    return (FAIL if wrong else PASS), shown


@requirement("busy.retry_after", "RFC 9725 §4.5; RFC 9110 §10.2.3",
             "a 503 to the POST carries Retry-After (honoured: the checker retries once after it)")
async def retry_after(ck: Checker) -> tuple[str, str]:
    busy = [r for r in ck.redirects if r.status == 503]
    if not busy:
        return SKIP, "the server did not answer 503"
    value = busy[0].headers.get("Retry-After")
    if value is None:
        return FAIL, f"{busy[0].shown} without Retry-After"
    after = ck.post.shown if ck.post is not None else "no retry"
    return PASS, f"{busy[0].shown}, Retry-After: {value}; retried: {after}"

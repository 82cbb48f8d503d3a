"""Ending the session (RFC 9725 §4.2): DELETE answers 200 and the media actually stops, as seen on
the wire: no RTP or RTCP from the server once it said the session is gone."""

from __future__ import annotations

import asyncio

from .client import WIRE_GRACE_SECONDS, WIRE_WATCH_SECONDS, Checker
from .model import FAIL, PASS, SKIP, requirement
from .patch import _usable


@requirement("delete.status", "RFC 9725 §3, §4.2 / draft-ietf-wish-whep §4.4",
             "DELETE on the resource answers 200 OK")
async def delete_status(ck: Checker) -> tuple[str, str]:
    if (skip := _usable(ck)) is not None:
        return skip
    assert ck.resource is not None
    ck.before_delete = await ck.watch(WIRE_WATCH_SECONDS)
    ck.deleted = reply = await ck.request("DELETE", ck.resource)
    return (PASS if reply.status == 200 else FAIL), reply.shown


@requirement("delete.media_stops", "RFC 9725 §4.2; RFC 7675 §5.2",
             "after DELETE the server sends no more RTP or RTCP for the session (checked on the wire)")
async def media_stops(ck: Checker) -> tuple[str, str]:
    if ck.deleted is None or ck.deleted.status // 100 != 2:
        return SKIP, "the session was not deleted"
    before = ck.before_delete
    if not any(before.values()):
        return SKIP, f"no RTP/RTCP from the server before DELETE either ({_counts(before)})"
    await asyncio.sleep(WIRE_GRACE_SECONDS)
    after = await ck.watch(WIRE_WATCH_SECONDS)
    shown = (f"{WIRE_WATCH_SECONDS:g} s before DELETE: {_counts(before)}; "
             f"{WIRE_WATCH_SECONDS:g} s from {WIRE_GRACE_SECONDS:g} s after it: {_counts(after)}")
    return (FAIL if any(after.values()) else PASS), shown


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind.upper()}" for kind, n in counts.items())

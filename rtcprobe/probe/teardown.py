"""Ending the session at the service (WHIP DELETE, realtime hangup) and what a failure there means.

A teardown that fails does not fail the session: its numbers stand. It is a warning on the
capture's `end` event, printed in the summary and shown in the report, because the session may
still be open at the service (and billed) until the service times it out.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from ..signaling import HttpSignaler, SignalingError

#: What every teardown warning adds: why a failed teardown matters at all.
STILL_OPEN = "the session may still be open at the service until it times out there"


async def end_at_service(signaler: HttpSignaler, timeout: float, on_unanswered: Callable[[str], None]) -> list[str]:
    """Tear down and close the signaler; the warnings it leaves (never raises but for cancellation).
    `on_unanswered` gets the reason when the requests did not finish within `timeout`."""
    first = len(signaler.exchanges)
    warnings: list[str] = []
    try:
        await asyncio.wait_for(signaler.teardown(), timeout)
    except SignalingError as exc:
        warnings.append(f"teardown failed: {exc}; {STILL_OPEN}")
    except TimeoutError:
        on_unanswered(f"no answer within {timeout:g} s")
    finally:
        with contextlib.suppress(Exception):
            await signaler.close()
    for exchange in signaler.exchanges[first:]:  # refused (4xx/5xx) or unanswered requests
        if exchange.error and not any(exchange.error in w for w in warnings):
            warnings.append(f"teardown failed: {exchange.error}; {STILL_OPEN}")
    return warnings

"""Ending the session at the service (WHIP DELETE, realtime hangup) and what a failure there means.

A teardown that fails does not fail the session: its numbers stand. It is a warning on the
capture's `end` event, printed in the summary and shown in the report, because the session may
still be open at the service (and billed) until the service times it out.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from .. import interrupts
from ..capture import CaptureWriter
from ..outputs import OutputError
from ..signaling import HttpSignaler, SignalingError
from .options import ProbeOptions

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


class Ending:
    """How a probe session stops early and ends: a full disk or a signal cancels the run, and the
    teardown then runs to its end. A mixin of ProbeSession (it uses the session's writer and task)."""

    options: ProbeOptions
    _writer: CaptureWriter | None
    _task: asyncio.Task[Any] | None
    writer: CaptureWriter
    _teardown: Callable[[], Coroutine[Any, Any, None]]

    def _output_failed(self, failure: OutputError) -> None:
        """The capture stopped taking lines (a full disk): end the session, since nothing of it
        could be kept; during the teardown, let the teardown finish."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    def _stopped(self) -> tuple[str, str]:
        """Reason and diagnosis of a run cancelled by a full disk or by a signal."""
        failure = self._writer.failure if self._writer is not None else None
        if failure is not None:
            return "error", f"output: {failure}: the session was stopped"
        signum = interrupts.received()
        who = "the user (Ctrl-C)" if signum in (None, signal.SIGINT) else interrupts.name(signum)  # type: ignore[arg-type]
        return "interrupted", f"stopped by {who} before the session ended"

    def _output_warning(self) -> str:
        writer = self.writer
        where = ("" if Path(writer.path) == Path(self.options.output) else
                 f"; the earlier {self.options.output} was left as it was, this run's capture is {writer.path}")
        return (f"{writer.failure}: the capture keeps the {writer.lines} complete lines written before; "
                f"{writer.dropped} event(s) were not written{where}")

    async def _teardown_to_the_end(self) -> None:
        """The teardown runs to its end even when a signal comes meanwhile (its DELETE is why signals
        are handled at all); it is bounded by the HTTP timeout, and a second signal exits at once."""
        teardown = asyncio.ensure_future(self._teardown())
        while True:
            try:
                await asyncio.shield(teardown)
                return
            except asyncio.CancelledError:
                self._uncancel()
                if teardown.done():
                    return

    @staticmethod
    def _uncancel() -> None:
        task = asyncio.current_task()
        if task is not None:
            while task.cancelling():
                task.uncancel()

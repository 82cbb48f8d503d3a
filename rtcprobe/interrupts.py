"""SIGINT, SIGTERM and SIGHUP alike: a CI runner cancelling a job or a closed terminal stops a run
the way Ctrl-C does (the capture gets its `end`, the WHIP resource its DELETE), exit 128 + signal.

Outside an event loop a signal raises `Interrupted` (a KeyboardInterrupt) where Python is; inside
`run` it cancels the main task once, so the session ends itself and is torn down. A second signal exits at once:
every complete line already written stays, and live files are put in place as they stand.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from . import outputs

T = TypeVar("T")

#: The signals that end a run like Ctrl-C.
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

_received: list[int] = []


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal; `status` is the exit status (128 + signal number)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def status(self) -> int:
        return 128 + self.signum


def received() -> int | None:
    """The first signal received since `install`, or None."""
    return _received[0] if _received else None


def name(signum: int) -> str:
    return signal.Signals(signum).name


def exit_status(default: int) -> int:
    """128 + the first signal received, else `default`."""
    signum = received()
    return 128 + signum if signum is not None else default


def _like_sigint(signum: int, frame: object) -> None:
    """SIGTERM/SIGHUP do what SIGINT would: inside `asyncio.run` its handler cancels the main task
    (the graceful way, which every command's event loop expects); elsewhere they raise."""
    _received.append(signum)
    if len(_received) > 1:
        exit_now(signum)
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not signal.default_int_handler:
        handler(signal.SIGINT, frame)
        return
    raise Interrupted(signum)


Handlers = dict[int, Any]


def install() -> Handlers:
    """Make SIGTERM and SIGHUP act like SIGINT (the CLI's start); returns the handlers replaced.
    SIGINT keeps Python's own handler, which `asyncio.run` recognises and replaces with its graceful
    one. Only the main thread can set handlers: elsewhere (a library caller's thread) nothing changes."""
    _received.clear()
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGHUP)}
    previous = {signum: handler for signum, handler in previous.items() if handler is not signal.SIG_IGN}
    for signum in previous:  # an ignored signal stays ignored (`nohup rtcprobe capture ...`)
        signal.signal(signum, _like_sigint)
    return previous


def restore(previous: Handlers) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, signal.SIG_DFL if handler is None else handler)


def exit_now(signum: int) -> None:
    """The second signal: put live files in place as they stand and leave without any teardown."""
    kept = outputs.settle()
    where = f"; kept {', '.join(map(str, kept))} as written so far (no end event)" if kept else ""
    os.write(sys.stderr.fileno(), f"rtcprobe: {name(signum)} again: exiting at once{where}\n".encode(
        "utf-8", "backslashreplace"))
    os._exit(128 + signum)


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` where the first signal cancels `main` (it ends its session and returns)
    and a second one exits at once."""

    async def guarded() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None

        def on_signal(signum: int) -> None:
            _received.append(signum)
            if len(_received) > 1:
                exit_now(signum)
            task.cancel()

        if threading.current_thread() is not threading.main_thread():
            return await main
        previous = {signum: signal.getsignal(signum) for signum in SIGNALS}
        previous = {signum: handler for signum, handler in previous.items() if handler is not signal.SIG_IGN}
        for signum in previous:  # an ignored signal stays ignored (nohup, a background job's SIGINT)
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            return await main
        except asyncio.CancelledError:
            if received() is None:
                raise
            raise Interrupted(received()) from None  # type: ignore[arg-type]
        finally:
            for signum, handler in previous.items():
                loop.remove_signal_handler(signum)
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:  # the signal came as `main` returned: its work is done
        if (signum := received()) is None:
            raise
        raise Interrupted(signum) from None

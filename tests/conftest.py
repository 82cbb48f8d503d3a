"""Fixtures shared by the whole test suite. Keep each one small and generic; one section per
peer or resource, so that fixtures added later find their place."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from browser import BrowserPage, Chromium, chromium_missing_reason

from rtcprobe.server import ServerConfig, run_server

# -- headless Chromium (tests/browser.py) --


@pytest.fixture(scope="module")
def chromium() -> Iterator[Chromium]:
    """One browser per test module (launching costs about a second); skipped only when
    /usr/bin/chromium is absent. Synchronous on purpose: the browser runs on its own thread,
    so tests on any event loop can use it."""
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    with Chromium() as browser:
        yield browser


@pytest.fixture
async def page(chromium: Chromium) -> AsyncIterator[BrowserPage]:
    """A fresh tab on the harness page (``http://localhost:PORT/harness.html``)."""
    async with chromium.open_page() as tab:
        yield tab


# -- the reference target (rtcprobe serve), in this test's event loop --


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., object]]:
    """`await serve(**knobs)` starts a reference target on 127.0.0.1 with those ServerConfig knobs
    and returns its base URL; every target started is stopped after the test. (Tests that need
    the target in a process of its own define their own `serve`.)"""
    runners = []

    async def start(**knobs: object) -> str:
        runner, base_url = await run_server(ServerConfig(host="127.0.0.1", port=0, **knobs))
        runners.append(runner)
        return base_url

    yield start
    for runner in runners:
        await runner.cleanup()

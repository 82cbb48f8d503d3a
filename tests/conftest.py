"""Fixtures shared by the whole test suite. Keep each one small and generic; one section per
peer or resource, so that fixtures added later find their place."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from browser import BrowserPage, Chromium, chromium_missing_reason

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

"""Headless Chromium as a real WebRTC peer for tests (DESIGN.md §4).

Debian's ``/usr/bin/chromium`` is driven by Playwright (never a downloaded browser). Browser and
Playwright live on a thread of their own with their own event loop: pytest-asyncio gives every
test function its own loop, so a browser owned by one loop could not outlive a test. With the
thread, one browser serves a whole module (or a script) and any loop can ``await`` its pages.

Pages are served over ``http://localhost:PORT/`` by a small aiohttp static server (same thread):
``getUserMedia`` needs a secure context, which ``about:blank`` is not. The in-page half of the
harness is ``tests/data/harness.js``; the helpers here (`create_offer`, `browser_session`, ...)
call it with ``page.evaluate``.

Use from pytest through the ``chromium`` / ``page`` fixtures of ``conftest.py``; from a script::

    with Chromium() as chromium:
        sdp = chromium.run(lambda: offer_from(chromium))
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import shutil
import tempfile
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from playwright.async_api import BrowserContext, Playwright, async_playwright
from playwright.async_api import Page as PlaywrightPage

T = TypeVar("T")

CHROMIUM = Path("/usr/bin/chromium")
DATA_DIR = Path(__file__).resolve().parent / "data"
HARNESS_PAGE = "harness.html"

#: Flags from DESIGN.md §4 plus quiet-startup ones: fake camera/microphone without a prompt,
#: real host IPs instead of mDNS names, no QUIC/sync/component traffic off the machine.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless=new",
    "--no-sandbox",  # tests run as root in containers, where the sandbox cannot start
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--allow-loopback-in-peer-connection",  # gather 127.0.0.1 so sessions with local targets stay on loopback
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

#: How each protocol POSTs an offer (tests/data/harness.js `postOffer`).
PROTOCOLS = ("whip", "sdp-post", "openai-beta", "openai")

LAUNCH_TIMEOUT = 60.0
CALL_TIMEOUT = 30.0
CLOSE_TIMEOUT = 15.0


def chromium_missing_reason() -> str | None:
    """Why browser tests cannot run here, or None. Only a missing binary is a reason to skip."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found: install Debian's chromium package (.ci/run does)"
    return None


class BrowserError(RuntimeError):
    """The browser or the page failed; the message carries the page's recent console lines."""


def mount_harness(app: web.Application, prefix: str = "/rtcprobe-harness") -> str:
    """Serve the harness page from ``app`` under ``prefix``; returns the page's path.

    A page on the target's own origin may POST offers to it whether or not it sends CORS headers."""
    app.router.add_static(prefix or "/", DATA_DIR)
    return f"{prefix}/{HARNESS_PAGE}"



@contextlib.asynccontextmanager
async def sdp_post_endpoint(answer: Callable[[str], Awaitable[str]]) -> AsyncIterator[str]:
    """An sdp-post URL on 127.0.0.1 whose answer is `answer(offer)` (a Chromium page answering,
    often through a relay); for the probe as offerer against a browser. Stopped on exit."""
    async def offer(request: web.Request) -> web.Response:
        return web.Response(text=await answer(await request.text()), content_type="application/sdp", status=201)

    app = web.Application()
    app.router.add_post("/offer", offer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/offer"
    finally:
        await runner.cleanup()


@dataclass
class ServedTarget:
    base_url: str  # http://localhost:PORT, the origin of the harness page too
    page_path: str


@contextlib.asynccontextmanager
async def serve_target(app: web.Application) -> AsyncIterator[ServedTarget]:
    """Run ``app`` (e.g. the reference target) on 127.0.0.1 with the harness page mounted on it."""
    page_path = mount_harness(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield ServedTarget(f"http://localhost:{runner.addresses[0][1]}", page_path)
    finally:
        await runner.cleanup()


class Chromium:
    """One headless Chromium with a fresh profile, on its own thread and event loop."""

    def __init__(self, *, launch_timeout: float = LAUNCH_TIMEOUT, context_options: dict[str, Any] | None = None) -> None:
        self.launch_timeout = launch_timeout
        # extra Playwright context options, e.g. record_har_path (the HAR is written by close())
        self.context_options = dict(context_options or {})
        self.base_url = ""  # http://localhost:PORT/ once started
        self.version = ""  # e.g. "156.0.8078.79" once started
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="chromium", daemon=True)
        self._profile = Path(tempfile.mkdtemp(prefix="rtcprobe-chromium-"))
        self._playwright: Playwright | None = None
        self._context: BrowserContext | None = None
        self._runner: web.AppRunner | None = None
        self._closed = False

    # -- lifecycle (synchronous, so that sync fixtures and scripts can own the browser) --

    def start(self) -> Chromium:
        reason = chromium_missing_reason()
        if reason:
            self.close()
            raise BrowserError(reason)
        self._thread.start()
        try:
            self._submit(self._launch, self.launch_timeout).result()
        except TimeoutError:
            self.close()
            raise BrowserError(f"Chromium did not start within {self.launch_timeout:g} s") from None
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Close pages, browser, server and thread; never hangs, safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self._submit(self._shutdown, 3 * CLOSE_TIMEOUT).result()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(CLOSE_TIMEOUT)
        if not self._thread.is_alive():
            self._loop.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    @property
    def profile_dir(self) -> Path:
        """The fresh user-data-dir of this browser (removed by `close`)."""
        return self._profile

    def __enter__(self) -> Chromium:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, fn: Callable[[], Awaitable[T]], timeout: float = CALL_TIMEOUT) -> T:
        """Run an async function from synchronous code (module fixtures, scripts) and wait."""
        return asyncio.run(self.call(fn, timeout))

    # -- pages --

    async def new_page(self, path: str = HARNESS_PAGE) -> BrowserPage:
        """Open ``path`` (relative to `base_url`, or an absolute URL) in a new tab."""
        url = path if "://" in path else self.base_url + path
        console: list[str] = []
        requests: list[str] = []  # every URL the tab fetched, navigation included

        async def open_tab() -> PlaywrightPage:
            assert self._context is not None
            page = await self._context.new_page()
            page.on("console", lambda msg: console.append(f"console.{msg.type}: {msg.text}"))
            page.on("pageerror", lambda exc: console.append(f"pageerror: {exc}"))
            page.on("request", lambda request: requests.append(request.url))
            try:
                response = await page.goto(url, wait_until="load")
                if response is None or not response.ok:
                    raise BrowserError(f"GET {url}: {response.status if response else 'no response'}")
            except BaseException:
                await page.close()
                raise
            return page

        try:
            page = await self.call(open_tab)
        except BrowserError:
            raise
        except Exception as exc:  # Playwright's Error, e.g. a 404 without a body became a download
            raise BrowserError(f"GET {url}: {_first_line(exc)}") from None
        return BrowserPage(self, page, url, console, requests)

    @contextlib.asynccontextmanager
    async def open_page(self, path: str = HARNESS_PAGE) -> AsyncIterator[BrowserPage]:
        page = await self.new_page(path)
        try:
            yield page
        finally:
            await page.close()

    # -- plumbing --

    async def call(self, fn: Callable[[], Awaitable[T]], timeout: float = CALL_TIMEOUT) -> T:
        """Await ``fn()`` on the browser's loop from any loop (Playwright objects live there)."""
        if self._closed or not self._thread.is_alive():
            raise BrowserError("Chromium is not running (closed, or start() failed)")
        future = self._submit(fn, timeout)
        try:
            return await asyncio.wrap_future(future)
        except TimeoutError:
            raise BrowserError(f"browser call did not finish within {timeout:g} s") from None

    def _submit(self, fn: Callable[[], Awaitable[T]], timeout: float) -> concurrent.futures.Future[T]:
        async def bounded() -> T:
            return await asyncio.wait_for(fn(), timeout)

        return asyncio.run_coroutine_threadsafe(bounded(), self._loop)

    async def _launch(self) -> None:
        app = web.Application()
        mount_harness(app, "")
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://localhost:{port}/"  # localhost is a secure context; 127.0.0.1 too,
        # but a different origin from targets on 127.0.0.1, as with a real web app and its service
        self._playwright = await async_playwright().start()
        self._context = await self._playwright.chromium.launch_persistent_context(
            str(self._profile),
            executable_path=str(CHROMIUM),
            args=list(CHROMIUM_ARGS),
            headless=True,
            timeout=self.launch_timeout * 1000,
            handle_sigint=False,
            handle_sigterm=False,
            handle_sighup=False,
            **self.context_options,
        )
        self.version = self._context.browser.version if self._context.browser else ""

    async def _shutdown(self) -> None:
        if self._context is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._context.close(), CLOSE_TIMEOUT)
        if self._playwright is not None:
            # stopping the driver also kills a browser that ignored context.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._playwright.stop(), CLOSE_TIMEOUT)
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._runner.cleanup(), CLOSE_TIMEOUT)


@dataclass
class BrowserPage:
    """A tab showing the harness page; `evaluate` works from any event loop."""

    chromium: Chromium
    page: PlaywrightPage = field(repr=False)
    url: str
    console: list[str] = field(default_factory=list, repr=False)
    requests: list[str] = field(default_factory=list, repr=False)

    async def evaluate(self, expression: str, arg: Any = None, *, timeout: float = CALL_TIMEOUT) -> Any:
        try:
            return await self.chromium.call(lambda: self.page.evaluate(expression, arg), timeout)
        except BrowserError as exc:
            raise BrowserError(f"{exc}{self._console_tail()}") from None
        except Exception as exc:  # Playwright's Error: the page threw
            raise BrowserError(f"{_first_line(exc)}{self._console_tail()}") from None

    async def screenshot(self, path: str | Path, *, full_page: bool = True) -> Path:
        """Save a PNG of the tab (the whole page by default)."""
        await self.chromium.call(lambda: self.page.screenshot(path=str(path), full_page=full_page))
        return Path(path)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.chromium.call(self.page.close, CLOSE_TIMEOUT)

    def _console_tail(self, lines: int = 10) -> str:
        tail = self.console[-lines:]
        return "\n  page console:\n    " + "\n    ".join(tail) if tail else ""


def _first_line(exc: BaseException) -> str:
    """Playwright appends a call log to its messages; the first line says what went wrong."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- helpers over tests/data/harness.js --


async def create_offer(
    page: BrowserPage,
    *,
    audio: bool = True,
    video: bool = True,
    datachannel: str | None = "rtcprobe",
    video_size: tuple[int, int] | None = None,
    frame_rate: float | None = None,
    timeout: float = CALL_TIMEOUT,
) -> str:
    """Create the page's RTCPeerConnection (fake camera/mic, a data channel) and return its
    offer after ICE gathering completed, i.e. with every candidate in it (CRLF, as Chromium)."""
    width, height = video_size or (None, None)
    options = {
        "audio": audio, "video": video, "datachannel": datachannel,
        "width": width, "height": height, "frameRate": frame_rate, "timeoutMs": timeout * 1000,
    }
    return await page.evaluate("(o) => rtcprobe.createOffer(o)", options, timeout=timeout + 5)


async def create_answer(
    page: BrowserPage,
    offer: str,
    *,
    audio: bool = True,
    video: bool = True,
    timeout: float = CALL_TIMEOUT,
) -> str:
    """Chromium as the answerer (e.g. a target for the aiortc probe): it sends its own fake
    media back and echoes every data-channel message. Returns the gathered answer."""
    options = {"audio": audio, "video": video, "timeoutMs": timeout * 1000}
    return await page.evaluate(
        "([offer, o]) => rtcprobe.createAnswer(offer, o)", [offer, options], timeout=timeout + 5
    )


async def apply_answer(page: BrowserPage, sdp: str) -> None:
    await page.evaluate("(sdp) => rtcprobe.applyAnswer(sdp)", sdp)


async def wait_connected(page: BrowserPage, timeout: float = CALL_TIMEOUT) -> None:
    await page.evaluate("(ms) => rtcprobe.waitConnected(ms)", timeout * 1000, timeout=timeout + 5)


async def track_settings(page: BrowserPage) -> list[dict[str, Any]]:
    """``getSettings()`` of each local track: what the fake devices deliver (size, fps)."""
    return await page.evaluate("() => rtcprobe.trackSettings()")


async def get_stats(page: BrowserPage) -> list[dict[str, Any]]:
    """Chromium's ``getStats()`` report as a list of W3C stats dictionaries."""
    return await page.evaluate("() => rtcprobe.getStats()")


async def wait_for_media(
    page: BrowserPage, kinds: tuple[str, ...] = ("audio", "video"), timeout: float = CALL_TIMEOUT
) -> list[dict[str, Any]]:
    """Wait until RTP flowed both ways for every kind; returns the stats that showed it."""
    return await page.evaluate(
        "([kinds, ms]) => rtcprobe.waitMedia(kinds, ms)", [list(kinds), timeout * 1000], timeout=timeout + 5
    )


async def datachannel_echo(page: BrowserPage, message: str, timeout: float = CALL_TIMEOUT) -> str:
    """Send ``message`` once the data channel is open and return it when it comes back."""
    return await page.evaluate(
        "([m, ms]) => rtcprobe.dcEcho(m, ms)", [message, timeout * 1000], timeout=timeout + 5
    )


def stats_of_type(stats: list[dict[str, Any]], type_: str, kind: str | None = None) -> list[dict[str, Any]]:
    """The stats objects of one W3C type (``inbound-rtp`` ...), optionally of one kind."""
    return [s for s in stats if s.get("type") == type_ and (kind is None or s.get("kind") == kind)]


@dataclass
class BrowserSession:
    """What Chromium saw of one session: the HTTP exchange, both descriptions, final stats."""

    status: int
    location: str | None
    content_type: str | None
    offer: str
    answer: str
    stats: list[dict[str, Any]]


async def browser_session(
    page: BrowserPage,
    url: str,
    protocol: str = "whip",
    *,
    token: str | None = None,
    session: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    audio: bool = True,
    video: bool = True,
    datachannel: str | None = "rtcprobe",
    timeout: float = CALL_TIMEOUT,
) -> BrowserSession:
    """Have the page offer, POST the offer to ``url`` with ``fetch`` (as a web app would; the
    target must allow CORS from `Chromium.base_url`), apply the answer and wait for connected.

    ``protocol``: ``whip``/``sdp-post`` send ``application/sdp``; ``openai-beta`` adds
    ``OpenAI-Beta: realtime=v1``; ``openai`` sends the GA multipart form (``sdp`` + ``session``).
    ``token`` becomes ``Authorization: Bearer ...``.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
    offer = await create_offer(page, audio=audio, video=video, datachannel=datachannel, timeout=timeout)
    options = {"token": token, "session": session, "headers": headers or {}, "timeoutMs": timeout * 1000}
    response = await page.evaluate(
        "([url, protocol, o]) => rtcprobe.postOffer(url, protocol, o)", [url, protocol, options],
        timeout=timeout + 5,
    )
    if not 200 <= response["status"] < 300:
        raise BrowserError(f"POST {url} ({protocol}) answered {response['status']}: {response['body'][:300]!r}")
    await apply_answer(page, response["body"])
    await wait_connected(page, timeout)
    return BrowserSession(
        status=response["status"],
        location=response["location"],
        content_type=response["contentType"],
        offer=offer,
        answer=response["body"],
        stats=await get_stats(page),
    )

"""chrome://webrtc-internals driven headless: the dumps a user would download from it.

Used by the importer tests and by `tests/data/import-record-dumps.py`; the browser itself is
`browser.Chromium`."""

from __future__ import annotations

from pathlib import Path

from browser import CALL_TIMEOUT, BrowserPage, Chromium

WEBRTC_INTERNALS = "chrome://webrtc-internals/"
#: The page's download buttons (Chromium `dump_creator.js`): the legacy JSON dump and RTCStatsDump.
DUMP_BUTTONS = {"internals": "dump-click-target", "rtcstats": "dump-click-target-rtcstats"}


async def open_webrtc_internals(chromium: Chromium, stats_interval_ms: int | None = None,
                                keep_removed: bool = False) -> BrowserPage:
    """A tab on chrome://webrtc-internals (it polls getStats() of every PeerConnection of the
    browser; ``?statsInterval=`` takes 100 ms and up, default 1000; ``?keepRemovedConnections``
    keeps closed PeerConnections in the dump)."""
    query = "&".join(([f"statsInterval={stats_interval_ms}"] if stats_interval_ms else [])
                     + (["keepRemovedConnections"] if keep_removed else []))
    return await chromium.new_page(WEBRTC_INTERNALS + (f"?{query}" if query else ""))


async def show(page: BrowserPage) -> None:
    """Bring a tab to the front: background tabs run their timers at most once a second."""
    await page.chromium.call(page.page.bring_to_front)


async def wait_internals_stats(internals: BrowserPage, after_ms: float, timeout: float = CALL_TIMEOUT) -> None:
    """Wait until webrtc-internals holds a stats sample taken after ``after_ms`` (epoch ms, the
    getStats() clock) for each PeerConnection that is not closed (closed ones are not polled)."""
    await internals.evaluate(
        """([after, ms]) => new Promise((resolve, reject) => {
             const started = Date.now();
             const newest = (record) => Math.max(0, ...Object.entries(record.toJSON().stats)
               .filter(([key]) => key.endsWith('-timestamp'))
               .map(([, series]) => Math.max(0, ...JSON.parse(series.toJSON().values || '[]'))));
             const check = () => {
               const records = Object.values(window.peerConnectionDataStore || {});
               const open = records.filter((r) => !r.toJSON().updateLog.some((u) => u.type === 'close'));
               if (open.length && open.every((r) => newest(r) > after)) return resolve();
               if (Date.now() - started > ms) return reject(new Error('webrtc-internals has no stats after ' + after));
               setTimeout(check, 50);
             };
             check();
           })""",
        [after_ms, timeout * 1000], timeout=timeout + 5,
    )


async def download_webrtc_internals(internals: BrowserPage, which: str = "internals") -> tuple[str, bytes]:
    """Click one of the page's download buttons; (suggested file name, file content)."""
    button = DUMP_BUTTONS[which]

    async def download() -> tuple[str, bytes]:
        async with internals.page.expect_download() as info:
            await internals.page.evaluate(f"() => document.getElementById('{button}').click()")
        done = await info.value
        path = await done.path()
        return done.suggested_filename, Path(path).read_bytes()

    return await internals.chromium.call(download)

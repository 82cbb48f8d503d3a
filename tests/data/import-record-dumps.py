"""Record the real Chromium dumps the import tests read (run by hand; the files are committed).

    .venv/bin/python tests/data/import-record-dumps.py

Headless Chromium holds two PeerConnections on loopback: tab 1 offers to the reference target over
WHIP (audio, video, data channel), tab 2 answers an aiortc offer (audio, data channel) and is then
closed with pc.close(). chrome://webrtc-internals (opened with ?keepRemovedConnections, so that the
closed one stays; it samples stats about once a second) is downloaded in both of its formats:
`import-chromium-webrtc_internals_dump.gz` and `import-chromium-rtcstats_dump.gz`.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from aiohttp import web  # noqa: E402
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import AudioStreamTrack  # noqa: E402
from browser import (  # noqa: E402
    Chromium,
    browser_session,
    create_answer,
    mount_harness,
    wait_connected,
    wait_for_media,
)
from webrtc_internals import (  # noqa: E402
    download_webrtc_internals,
    open_webrtc_internals,
    show,
    wait_internals_stats,
)

from rtcprobe.server import ServerConfig, create_app  # noqa: E402

TOKEN = "sk-fixture-not-a-real-key-0000"


async def record(chromium: Chromium) -> None:
    app = create_app(ServerConfig(token=TOKEN))
    page_path = mount_harness(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://localhost:{runner.addresses[0][1]}"
    internals = await open_webrtc_internals(chromium, keep_removed=True)
    offerer = await chromium.new_page(base + page_path)
    await browser_session(offerer, base + "/whip", "whip", token=TOKEN)
    await wait_for_media(offerer)

    answerer = await chromium.new_page(base + page_path)
    probe = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    probe.addTrack(AudioStreamTrack())
    probe.createDataChannel("fixture")
    await probe.setLocalDescription(await probe.createOffer())
    answer = await create_answer(answerer, probe.localDescription.sdp, audio=True, video=False)
    await probe.setRemoteDescription(RTCSessionDescription(answer, "answer"))
    await wait_connected(answerer)
    await show(internals)
    await asyncio.sleep(2.5)  # a few stats samples of a running call
    await answerer.evaluate("() => rtcprobe.close()")
    await wait_internals_stats(internals, time.time() * 1000)
    for which in ("internals", "rtcstats"):
        name, content = await download_webrtc_internals(internals, which)
        target = HERE / f"import-chromium-{name}"
        target.write_bytes(content)
        print(f"{target.relative_to(HERE.parent.parent)}: {len(content)} bytes (Chromium {chromium.version})")
    await probe.close()
    for page in (offerer, answerer, internals):
        await page.close()
    await runner.cleanup()


def main() -> None:
    with Chromium() as chromium:
        asyncio.run(asyncio.wait_for(record(chromium), 90))


if __name__ == "__main__":
    main()

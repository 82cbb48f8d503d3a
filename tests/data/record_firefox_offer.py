"""Record a real headless Firefox (ESR) offer as an rtcprobe offer profile.

Firefox is driven over WebDriver BiDi (interop/peers/firefox_bidi.py):
a blank page creates an RTCPeerConnection with an audio and a video track
(a WebAudio tone and a canvas: about:blank has no getUserMedia) and a data channel, like the probe's own tracks, and returns
``createOffer()`` as Firefox wrote it. The profile keeps Firefox's text unchanged.

    apt-get install firefox-esr
    .venv/bin/python tests/data/record_firefox_offer.py [--firefox firefox-esr] [-o OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "interop" / "peers"))
from firefox_bidi import BASE_PREFS, firefox_page  # noqa: E402 - the one BiDi driver, beside the interop peers

OFFERS = REPO / "rtcprobe" / "profiles" / "offers"
OFFER_JS = """(async () => {
  const pc = new RTCPeerConnection();
  // about:blank is no secure context (no getUserMedia): a WebAudio tone and a canvas are real tracks too
  const audio = new AudioContext();
  const tone = audio.createOscillator();
  const sink = audio.createMediaStreamDestination();
  tone.connect(sink);
  tone.start();
  const canvas = document.createElement('canvas');
  canvas.getContext('2d').fillRect(0, 0, 10, 10);
  const stream = new MediaStream([...sink.stream.getAudioTracks(), ...canvas.captureStream(10).getVideoTracks()]);
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  pc.createDataChannel('rtcprobe');
  const offer = await pc.createOffer();
  return offer.sdp;
})()"""


async def record(firefox: str, port: int) -> tuple[str, str]:
    async with firefox_page(firefox, port, BASE_PREFS) as page:
        result = await page.call("script.evaluate", {
            "expression": OFFER_JS, "target": {"context": page.context}, "awaitPromise": True})
        if result.get("type") != "success":
            raise RuntimeError(f"createOffer failed: {result.get('exceptionDetails')}")
        return result["result"]["value"], page.version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--firefox", default="firefox-esr")
    parser.add_argument("--port", type=int, default=9231)
    parser.add_argument("-o", "--out", type=Path, help="default: rtcprobe/profiles/offers/firefox-VERSION.json")
    args = parser.parse_args(argv)
    sdp, version = asyncio.run(record(args.firefox, args.port))
    number = re.search(r"(\d+)\.", version)
    major = number.group(1) if number else "unknown"
    out = args.out or OFFERS / f"firefox-{major}.json"
    profile = {
        "browser": "firefox", "version": version.replace("Mozilla Firefox ", ""),
        "source": "recorded here: headless Firefox ESR from Debian (firefox-esr), driven over WebDriver BiDi "
                  "by tests/data/record_firefox_offer.py; a WebAudio track, a canvas track and one data channel",
        "license": "browser output, no license restriction",
        "sdp": sdp.split("\r\n")[:-1] if sdp.endswith("\r\n") else sdp.split("\r\n"),
    }
    out.write_text(json.dumps(profile, indent=1) + "\n")
    print(f"wrote {out} ({len(profile['sdp'])} lines, {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

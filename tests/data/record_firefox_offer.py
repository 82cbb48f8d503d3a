"""Record a real headless Firefox (ESR) offer as an rtcprobe offer profile.

Firefox is driven over WebDriver BiDi (``--remote-debugging-port``, one websocket, no geckodriver):
a blank page creates an RTCPeerConnection with an audio and a video track
(a WebAudio tone and a canvas: about:blank has no getUserMedia) and a data channel, like the probe's own tracks, and returns
``createOffer()`` as Firefox wrote it. The profile keeps Firefox's text unchanged.

    apt-get install firefox-esr
    .venv/bin/python tests/data/record_firefox_offer.py [--firefox firefox-esr] [-o OUT]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

OFFERS = Path(__file__).resolve().parents[2] / "rtcprobe" / "profiles" / "offers"
PREFS = {
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
    "remote.active-protocols": 1,  # WebDriver BiDi only
}
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


async def _command(ws: aiohttp.ClientWebSocketResponse, ident: int, method: str, params: dict) -> dict:
    await ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
    async for message in ws:
        data = json.loads(message.data)
        if data.get("id") == ident:
            if data.get("type") == "error":
                raise RuntimeError(f"{method}: {data.get('error')}: {data.get('message')}")
            return data["result"]
    raise RuntimeError(f"{method}: the websocket closed")


async def record(firefox: str, port: int) -> tuple[str, str]:
    with tempfile.TemporaryDirectory(prefix="rtcprobe-ff-") as profile:
        Path(profile, "user.js").write_text("".join(f'user_pref("{k}", {json.dumps(v)});\n' for k, v in PREFS.items()))
        proc = subprocess.Popen([firefox, "--headless", "--no-remote", "--profile", profile,
                                 f"--remote-debugging-port={port}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            version = subprocess.run([firefox, "--version"], capture_output=True, text=True).stdout.strip()
            async with aiohttp.ClientSession() as http:
                for _ in range(100):  # Firefox takes a few seconds to listen
                    try:
                        ws = await http.ws_connect(f"ws://127.0.0.1:{port}/session")
                        break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.2)
                else:
                    raise RuntimeError("Firefox did not open its BiDi port")
                async with ws:
                    await _command(ws, 1, "session.new", {"capabilities": {}})
                    tree = await _command(ws, 2, "browsingContext.getTree", {})
                    context = tree["contexts"][0]["context"]
                    result = await _command(ws, 3, "script.evaluate", {
                        "expression": OFFER_JS, "target": {"context": context}, "awaitPromise": True})
                    if result.get("type") != "success":
                        raise RuntimeError(f"createOffer failed: {result.get('exceptionDetails')}")
                    return result["result"]["value"], version
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)


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

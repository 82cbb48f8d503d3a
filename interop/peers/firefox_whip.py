"""Firefox ESR as a WHIP client: headless Firefox from Debian, driven over WebDriver BiDi (its
`--remote-debugging-port`, no geckodriver), publishes a WebAudio tone and a canvas to a WHIP URL,
keeps the session up for a few seconds, DELETEs it, and prints one JSON line: Firefox's offer, the
answer, the connection states it went through and its own outbound-rtp counters.

Firefox gathers no candidates without a default route, so interop/run.py runs this script (and
`rtcprobe serve`) inside its namespace with one. BiDi protocol pattern as in
tests/data/record_firefox_offer.py.

    python interop/peers/firefox_whip.py WHIP_URL [--seconds 3] [--firefox firefox-esr] [--port 9241]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

PREFS = {
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
    "media.peerconnection.ice.obfuscate_host_addresses": False,  # real addresses, no mDNS names
    "media.peerconnection.ice.loopback": True,
    "remote.active-protocols": 1,  # WebDriver BiDi only
}
PUBLISH_JS = """(async (url, seconds) => {
  const states = [];
  const pc = new RTCPeerConnection();
  pc.onconnectionstatechange = () => states.push(pc.connectionState);
  const audio = new AudioContext();
  const tone = audio.createOscillator();
  const sink = audio.createMediaStreamDestination();
  tone.connect(sink);
  tone.start();
  const canvas = document.createElement('canvas');
  const draw = canvas.getContext('2d');
  setInterval(() => { draw.fillStyle = `hsl(${Date.now() % 360},80%,50%)`; draw.fillRect(0, 0, 320, 240); }, 50);
  const stream = new MediaStream([...sink.stream.getAudioTracks(), ...canvas.captureStream(15).getVideoTracks()]);
  for (const track of stream.getTracks()) pc.addTransceiver(track, {direction: 'sendonly', streams: [stream]});
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
    setTimeout(resolve, 5000);
  });
  const offer = pc.localDescription.sdp;
  const response = await fetch(url, {method: 'POST', headers: {'Content-Type': 'application/sdp'}, body: offer});
  const answer = await response.text();
  if (response.status !== 201) return {offer, status: response.status, answer, states};
  const location = new URL(response.headers.get('Location'), url).href;
  await pc.setRemoteDescription({type: 'answer', sdp: answer});
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const outbound = [];
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'outbound-rtp') outbound.push({kind: s.kind, packetsSent: s.packetsSent, bytesSent: s.bytesSent});
  });
  const deleted = (await fetch(location, {method: 'DELETE'})).status;
  pc.close();
  return {offer, status: response.status, answer, location, states, outbound, deleted};
})"""


async def _command(ws: aiohttp.ClientWebSocketResponse, ident: int, method: str, params: dict) -> dict:
    await ws.send_str(json.dumps({"id": ident, "method": method, "params": params}))
    async for message in ws:
        data = json.loads(message.data)
        if data.get("id") == ident:
            if data.get("type") == "error":
                raise RuntimeError(f"{method}: {data.get('error')}: {data.get('message')}")
            return data["result"]
    raise RuntimeError(f"{method}: the websocket closed")


async def publish(firefox: str, port: int, url: str, seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="rtcprobe-ff-") as profile:
        Path(profile, "user.js").write_text("".join(f'user_pref("{k}", {json.dumps(v)});\n' for k, v in PREFS.items()))
        proc = subprocess.Popen([firefox, "--headless", "--no-remote", "--profile", profile,
                                 f"--remote-debugging-port={port}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            version = subprocess.run([firefox, "--version"], capture_output=True, text=True).stdout.strip()
            async with aiohttp.ClientSession() as http:
                for _ in range(150):  # Firefox takes a few seconds to listen
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
                    result = await _command(ws, 3, "script.callFunction", {
                        "functionDeclaration": PUBLISH_JS, "target": {"context": context}, "awaitPromise": True,
                        "arguments": [{"type": "string", "value": url}, {"type": "number", "value": seconds}],
                        "serializationOptions": {"maxObjectDepth": 5}})
                    if result.get("type") != "success":
                        raise RuntimeError(f"publishing failed: {result.get('exceptionDetails', {}).get('text')}")
                    return {"version": version, **_deserialize(result["result"])}
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)


def _deserialize(value: dict) -> object:
    """A BiDi remote value (object/array/primitive) as plain JSON."""
    kind = value.get("type")
    if kind == "object":
        return {k if isinstance(k, str) else str(k): _deserialize(v) for k, v in value.get("value", [])}
    if kind == "array":
        return [_deserialize(v) for v in value.get("value", [])]
    return value.get("value")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--firefox", default="firefox-esr")
    parser.add_argument("--port", type=int, default=9241)
    args = parser.parse_args(argv)
    try:
        print(json.dumps(asyncio.run(publish(args.firefox, args.port, args.url, args.seconds))))
    except RuntimeError as error:
        print(json.dumps({"error": str(error)}))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

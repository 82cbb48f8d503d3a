"""Firefox ESR as a WHIP client: headless Firefox from Debian, driven over WebDriver BiDi (its
`--remote-debugging-port`, no geckodriver), publishes a WebAudio tone and a canvas to a WHIP URL,
keeps the session up for a few seconds, DELETEs it, and prints one JSON line: Firefox's offer, the
answer, the connection states it went through and its own outbound-rtp counters.

Firefox gathers no candidates without a default route, so interop/run.py runs this script (and
`rtcprobe serve`) inside its namespace with one. The BiDi driver is firefox_bidi.py.

    python interop/peers/firefox_whip.py WHIP_URL [--seconds 3] [--firefox firefox-esr] [--port 9241]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from firefox_bidi import BASE_PREFS, deserialize, firefox_page

PREFS = {
    **BASE_PREFS,
    "media.peerconnection.ice.obfuscate_host_addresses": False,  # real addresses, no mDNS names
    "media.peerconnection.ice.loopback": True,
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


async def publish(firefox: str, port: int, url: str, seconds: float) -> dict:
    async with firefox_page(firefox, port, PREFS) as page:
        result = await page.call("script.callFunction", {
            "functionDeclaration": PUBLISH_JS, "target": {"context": page.context}, "awaitPromise": True,
            "arguments": [{"type": "string", "value": url}, {"type": "number", "value": seconds}],
            "serializationOptions": {"maxObjectDepth": 5}})
        if result.get("type") != "success":
            raise RuntimeError(f"publishing failed: {result.get('exceptionDetails', {}).get('text')}")
        return {"version": page.version, **deserialize(result["result"])}  # type: ignore[dict-item]


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

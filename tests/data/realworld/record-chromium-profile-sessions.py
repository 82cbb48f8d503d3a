"""Record real Chromium sessions the profile tests read (run by hand; the outputs are committed).

    .venv/bin/python tests/data/realworld/record-chromium-profile-sessions.py

Headless Chromium (/usr/bin/chromium, fake camera and microphone) holds PeerConnections with
each other in one page on loopback, candidates trickled both ways with addIceCandidate:

* session A (pc1 offers to pc2): audio, video sendrecv and a second video transceiver recvonly;
  once connected, pc1 opens a data channel, which renegotiates (round 2 adds m=application);
* session B (pc3 offers to pc4): audio only; once connected the transceiver is stopped and pc3
  offers again: every m-line of that offer has port 0 (saved as an SDP file too);
* session C (pc5 answers a real Janus subscriber offer): pc5 is given the Janus VideoRoom offer
  `sdp/pion-test-janus-offer-videoroom.sdp` and answers it (the far end is not there, so it
  never connects: the dump holds the exchange and pc5's trickled candidates).

chrome://webrtc-internals is downloaded as `dumps/chromium-renegotiation-trickle.json.gz`; the
session-B re-offer as `sdp/chromium-offer-all-transceivers-stopped.sdp`.
"""

from __future__ import annotations

import asyncio
import gzip
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from aiohttp import web  # noqa: E402
from browser import Chromium, serve_target  # noqa: E402
from webrtc_internals import download_webrtc_internals, open_webrtc_internals, show  # noqa: E402

SESSIONS_JS = """
async (janusOffer) => {
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const link = (a, b) => {  // trickle a's candidates to b, queued until b has a remote description
    const queue = [];
    a.onicecandidate = (e) => { if (e.candidate) queue.push(e.candidate); flush(); };
    const flush = () => { while (b.remoteDescription && queue.length) b.addIceCandidate(queue.shift()).catch(() => {}); };
    return flush;
  };
  const negotiate = async (a, b, flushes) => {
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);
    flushes.forEach((f) => f());
  };
  const connected = async (pc) => { for (let i = 0; i < 100 && pc.connectionState !== 'connected'; i++) await wait(100); return pc.connectionState; };
  const media = await navigator.mediaDevices.getUserMedia({audio: true, video: true});

  const pc1 = new RTCPeerConnection(), pc2 = new RTCPeerConnection();
  const ab = [link(pc1, pc2), link(pc2, pc1)];
  media.getTracks().forEach((t) => pc1.addTrack(t, media));
  pc1.addTransceiver('video', {direction: 'recvonly'});
  await negotiate(pc1, pc2, ab);
  const a1 = await connected(pc1);
  const channel = pc1.createDataChannel('late');
  await negotiate(pc1, pc2, ab);
  for (let i = 0; i < 100 && channel.readyState !== 'open'; i++) await wait(100);

  const pc3 = new RTCPeerConnection(), pc4 = new RTCPeerConnection();
  const cd = [link(pc3, pc4), link(pc4, pc3)];
  pc3.addTrack(media.getAudioTracks()[0], media);
  await negotiate(pc3, pc4, cd);
  const b1 = await connected(pc3);
  pc3.getTransceivers().forEach((t) => t.stop());
  await negotiate(pc3, pc4, cd);
  const stopped = pc3.localDescription.sdp;

  const pc5 = new RTCPeerConnection();
  let janus = 'answered';
  try {
    await pc5.setRemoteDescription({type: 'offer', sdp: janusOffer});
    await pc5.setLocalDescription(await pc5.createAnswer());
    for (let i = 0; i < 50 && pc5.iceGatheringState !== 'complete'; i++) await wait(100);
  } catch (e) { janus = String(e); }
  return {a1, channel: channel.readyState, b1, stopped, janus, ua: navigator.userAgent};
}
"""


async def record(chromium: Chromium) -> None:
    janus_offer = (HERE / "sdp" / "pion-test-janus-offer-videoroom.sdp").read_text()
    async with serve_target(web.Application()) as target:
        internals = await open_webrtc_internals(chromium)
        page = await chromium.new_page(target.base_url + target.page_path)
        result = await page.evaluate(SESSIONS_JS, janus_offer, timeout=60)
        print({k: v for k, v in result.items() if k != "stopped"})
        await show(internals)
        await asyncio.sleep(2.5)  # a few stats samples
        name, content = await download_webrtc_internals(internals, "internals")
        if not content.startswith(b"\x1f\x8b"):
            content = gzip.compress(content, mtime=0)
        (HERE / "dumps" / "chromium-renegotiation-trickle.json.gz").write_bytes(content)
        (HERE / "sdp" / "chromium-offer-all-transceivers-stopped.sdp").write_text(result["stopped"], newline="")
        print(f"{name}: {len(content)} bytes (Chromium {chromium.version})")
        for p in (page, internals):
            await p.close()


def main() -> None:
    with Chromium() as chromium:
        asyncio.run(asyncio.wait_for(record(chromium), 120))


if __name__ == "__main__":
    main()

// How werift-*.sdp and libdatachannel-*.sdp in this folder were recorded (real peers, loopback only).
//   mkdir /tmp/rec && cd /tmp/rec && npm install werift@0.24 node-datachannel
//   NODE_PATH=/tmp/rec/node_modules node record-node-peers.mjs <output dir>
// werift 0.24.4 and node-datachannel 0.33.4 (libdatachannel) exchange one offer/answer each way;
// each description is written as the peer produced it after ICE gathering (no edits).
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { RTCPeerConnection, MediaStreamTrack } = require("werift");
const ndc = require("node-datachannel");

const out = process.argv[2] ?? ".";
const save = (name, sdp) => writeFileSync(join(out, name), sdp.replace(/\r\n/g, "\n"));
const weriftConfig = (iceLite) => ({
  iceLite, iceUseIpv6: false, iceInterfaceAddresses: { udp4: "127.0.0.1" },
});

async function gathered(pc) {
  if (pc.iceGatheringState === "complete") return;
  await new Promise((resolve) => pc.iceGatheringStateChange.subscribe((s) => s === "complete" && resolve()));
}

function ndcPeer(name) {
  const pc = new ndc.PeerConnection(name, { iceServers: [], bindAddress: "127.0.0.1" });
  const described = new Promise((resolve) => pc.onGatheringStateChange((s) => s === "complete" && resolve()));
  return { pc, described };
}

// 1. werift offers audio + video + data, as an ICE-lite agent (werift writes a=ice-lite per m-line).
const wOffer = new RTCPeerConnection(weriftConfig(true));
wOffer.addTransceiver(new MediaStreamTrack({ kind: "audio" }), { direction: "sendrecv" });
wOffer.addTransceiver(new MediaStreamTrack({ kind: "video" }), { direction: "sendrecv" });
wOffer.createDataChannel("dc");
await wOffer.setLocalDescription(await wOffer.createOffer());
await gathered(wOffer);
save("werift-offer-icelite-audio-video-data.sdp", wOffer.localDescription.sdp);

// 2. libdatachannel offers a data channel and an Opus track.
const a = ndcPeer("offerer");
const audio = new ndc.Audio("audio", "SendRecv");
audio.addOpusCodec(111);
a.pc.addTrack(audio);
a.pc.createDataChannel("dc");
a.pc.setLocalDescription("offer");
await a.described;
const ldcOffer = a.pc.localDescription();
save("libdatachannel-offer-audio-data.sdp", ldcOffer.sdp);

// 3. werift answers libdatachannel's offer.
const wAnswer = new RTCPeerConnection(weriftConfig(false));
await wAnswer.setRemoteDescription({ type: "offer", sdp: ldcOffer.sdp });
await wAnswer.setLocalDescription(await wAnswer.createAnswer());
await gathered(wAnswer);
save("werift-answer-to-libdatachannel.sdp", wAnswer.localDescription.sdp);

// 4. libdatachannel answers a werift data-channel offer.
const wData = new RTCPeerConnection(weriftConfig(false));
wData.createDataChannel("dc");
await wData.setLocalDescription(await wData.createOffer());
await gathered(wData);
save("werift-offer-data.sdp", wData.localDescription.sdp);
const b = ndcPeer("answerer");
b.pc.setRemoteDescription(wData.localDescription.sdp, "offer");
await b.described;
save("libdatachannel-answer-to-werift.sdp", b.pc.localDescription().sdp);

for (const pc of [wOffer, wAnswer, wData]) await pc.close();
a.pc.close();
b.pc.close();
ndc.cleanup();
process.exit(0);

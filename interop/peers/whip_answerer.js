// A WHIP endpoint (RFC 9725, the subset a publisher needs) whose answers come from a third-party
// WebRTC stack: `node whip_answerer.js STACK HOST PORT` with STACK one of libwebrtc, werift,
// libdatachannel. POST /whip -> 201 + Location + the stack's answer (gathered in full, no trickle);
// DELETE /whip/N -> 200 and the PeerConnection closed. Prints "listening" once ready and one JSON
// line per session event on stdout, so the runner knows what the stack itself saw.
"use strict";
const http = require("http");

const [stack, host, port] = process.argv.slice(2);
const sessions = new Map();
const CORS = { "Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Location" };
// The publisher must send: an offer with no m-line that sends is refused (RFC 9725 §4.2).
const sends = (offer) => /^a=(sendrecv|sendonly)\s*$/m.test(offer) || !/^a=(recvonly|inactive)\s*$/m.test(offer);
let counter = 0;
const log = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

function gathered(pc, event) {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === "complete") return resolve();
    const timer = setTimeout(resolve, 5000);
    pc[event] = () => { if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); } };
  });
}

// libwebrtc (@roamhq/wrtc) and werift both follow the W3C API.
async function w3cAnswer(RTCPeerConnection, config, offer, id) {
  const pc = new RTCPeerConnection(config);
  pc.onconnectionstatechange = () => log({ id, connection: pc.connectionState });
  await pc.setRemoteDescription({ type: "offer", sdp: offer });
  const answer = await pc.createAnswer();
  const done = gathered(pc, "onicegatheringstatechange");
  await pc.setLocalDescription(answer);
  await done;
  return { sdp: pc.localDescription.sdp, close: () => pc.close() };
}

async function datachannelAnswer(offer, id) {
  const ndc = require("node-datachannel");
  const pc = new ndc.PeerConnection(`whip-${id}`, { iceServers: [] });
  pc.onStateChange((state) => log({ id, connection: state }));
  const done = new Promise((resolve) => {
    const timer = setTimeout(resolve, 5000);
    pc.onGatheringStateChange((state) => { if (state === "complete") { clearTimeout(timer); resolve(); } });
  });
  pc.onTrack((track) => log({ id, track: track.mid() }));
  // A publisher's endpoint receives only: declare each offered audio/video mid RecvOnly before the
  // offer is applied (libdatachannel otherwise mirrors the offer's sendrecv and sends nothing).
  const tracks = [];
  for (const [, kind, mid] of offer.matchAll(/^m=(audio|video) [^]*?^a=mid:(\S+)/gm)) {
    const media = kind === "audio" ? new ndc.Audio(mid, "RecvOnly") : new ndc.Video(mid, "RecvOnly");
    if (kind === "audio") media.addOpusCodec(111); else media.addVP8Codec(96);
    tracks.push(pc.addTrack(media));
  }
  pc.setRemoteDescription(offer, "offer");
  await done;
  return { sdp: pc.localDescription().sdp, close: () => pc.close() };
}

async function answer(offer, id) {
  if (stack === "libwebrtc") return w3cAnswer(require("@roamhq/wrtc").RTCPeerConnection, { iceServers: [] }, offer, id);
  if (stack === "werift") return w3cAnswer(require("werift").RTCPeerConnection, { iceServers: [] }, offer, id);
  if (stack === "libdatachannel") return datachannelAnswer(offer, id);
  throw new Error(`unknown stack ${stack}`);
}

const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => { body += chunk; });
  req.on("end", async () => {
    try {
      if (req.method === "OPTIONS" && req.url === "/whip") {
        res.writeHead(204, { ...CORS, "Accept-Post": "application/sdp",
          "Access-Control-Allow-Methods": "POST, DELETE, OPTIONS", "Access-Control-Allow-Headers": "Content-Type" }).end();
      } else if (req.method === "POST" && req.url === "/whip") {
        if (!(req.headers["content-type"] || "").startsWith("application/sdp")) {
          res.writeHead(415, CORS).end();
          return;
        }
        if (!sends(body)) {
          res.writeHead(422, { ...CORS, "Content-Type": "text/plain" }).end("the offer sends no media");
          return;
        }
        const id = String(++counter);
        let session;
        try {
          session = await answer(body, id);
        } catch (err) {  // the stack refused the offer: the client's fault
          log({ id, refused: String(err) });
          res.writeHead(400, { ...CORS, "Content-Type": "text/plain" }).end(String(err));
          return;
        }
        sessions.set(id, session);
        log({ id, answer: session.sdp });
        res.writeHead(201, { ...CORS, "Content-Type": "application/sdp", Location: `/whip/${id}` }).end(session.sdp);
      } else if ((req.method === "GET" || req.method === "HEAD") &&
                 (req.url === "/whip" || sessions.has(req.url.slice("/whip/".length)))) {
        res.writeHead(204, CORS).end();  // GET/HEAD: 2xx without content (RFC 9725 §4.1)
      } else if (req.method === "DELETE" && sessions.has(req.url.slice("/whip/".length))) {
        const id = req.url.slice("/whip/".length);
        sessions.get(id).close();
        sessions.delete(id);
        log({ id, deleted: true });
        res.writeHead(200).end();
      } else {
        res.writeHead(req.method === "POST" ? 404 : 405).end();
      }
    } catch (err) {
      log({ error: String(err && err.stack || err) });
      res.writeHead(500, { "Content-Type": "text/plain" }).end(String(err));
    }
  });
});
server.listen(Number(port), host, () => log({ listening: `${host}:${port}`, stack }));
process.on("SIGTERM", () => { for (const s of sessions.values()) s.close(); process.exit(0); });

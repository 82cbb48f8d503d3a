// In-page half of the Chromium test harness (tests/browser.py drives it with page.evaluate).
// One RTCPeerConnection per page, kept in `state`, so that Python can go step by step:
// createOffer -> (POST it) -> applyAnswer -> waitConnected -> getStats / dcEcho.
"use strict";

(() => {
  const state = { pc: null, dc: null, stream: null, received: [] };

  // Every wait has a deadline, so that a stuck session fails with a message rather than hanging.
  function withTimeout(promise, ms, what) {
    let timer;
    const deadline = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    });
    return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
  }

  function requirePc() {
    if (!state.pc) throw new Error("no RTCPeerConnection: call createOffer first");
    return state.pc;
  }

  function waitGatheringComplete(pc) {
    return new Promise((resolve) => {
      if (pc.iceGatheringState === "complete") return resolve();
      pc.addEventListener("icegatheringstatechange", () => {
        if (pc.iceGatheringState === "complete") resolve();
      });
    });
  }

  function videoConstraints({ width, height, frameRate }) {
    const video = {};
    if (width) video.width = { exact: width };
    if (height) video.height = { exact: height };
    if (frameRate) video.frameRate = { exact: frameRate };
    return Object.keys(video).length ? video : true;
  }

  // Fake camera and microphone (Chromium's --use-fake-device-for-media-stream) as tracks.
  async function attachMedia(pc, opts, timeoutMs) {
    const { audio = true, video = true } = opts;
    if (!audio && !video) return;
    const constraints = { audio: !!audio, video: video ? videoConstraints(opts) : false };
    state.stream = await withTimeout(navigator.mediaDevices.getUserMedia(constraints), timeoutMs, "getUserMedia");
    for (const track of state.stream.getTracks()) pc.addTrack(track, state.stream);
  }

  async function createOffer(opts = {}) {
    const { datachannel = "rtcprobe", iceServers = [] } = opts;
    const timeoutMs = opts.timeoutMs ?? 15000;
    close();  // one peer connection per page: a new offer/answer replaces the old one
    const pc = new RTCPeerConnection({ iceServers });
    state.pc = pc;
    await attachMedia(pc, opts, timeoutMs);
    if (datachannel) {
      state.dc = pc.createDataChannel(datachannel);
      state.dc.addEventListener("message", (event) => state.received.push(event.data));
    }
    await pc.setLocalDescription(await pc.createOffer());
    await withTimeout(waitGatheringComplete(pc), timeoutMs, "ICE gathering to complete");
    return pc.localDescription.sdp;
  }

  // Chromium as the answering peer: its own fake media back, data-channel messages echoed.
  async function createAnswer(offer, opts = {}) {
    const { iceServers = [] } = opts;
    const timeoutMs = opts.timeoutMs ?? 15000;
    close();  // one peer connection per page: a new offer/answer replaces the old one
    const pc = new RTCPeerConnection({ iceServers });
    state.pc = pc;
    pc.addEventListener("datachannel", (event) => {
      const dc = event.channel;
      state.dc = dc;
      dc.addEventListener("message", (message) => {
        state.received.push(message.data);
        dc.send(message.data);
      });
    });
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    await attachMedia(pc, opts, timeoutMs);
    await pc.setLocalDescription(await pc.createAnswer());
    await withTimeout(waitGatheringComplete(pc), timeoutMs, "ICE gathering to complete");
    return pc.localDescription.sdp;
  }

  // POST the current offer the way the named protocol does; returns the HTTP facts and body.
  async function postOffer(url, protocol, opts = {}) {
    const offer = requirePc().localDescription.sdp;
    const headers = { ...(opts.headers ?? {}) };
    if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
    let body;
    if (protocol === "openai") {
      body = new FormData();
      body.set("sdp", offer);
      body.set("session", JSON.stringify(opts.session ?? {}));
    } else {
      headers["Content-Type"] = "application/sdp";
      if (protocol === "openai-beta") headers["OpenAI-Beta"] = "realtime=v1";
      body = offer;
    }
    let response;
    try {
      response = await withTimeout(
        fetch(url, { method: "POST", headers, body }), opts.timeoutMs ?? 15000, `POST ${url}`);
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      // fetch hides why; across origins it is nearly always the target's missing CORS headers
      const crossOrigin = new URL(url, location.href).origin !== location.origin;
      throw new Error(`POST ${url} failed: ${error.message}` + (crossOrigin
        ? ` (cross-origin from ${location.origin}: does the target send CORS headers?)` : ""));
    }
    return {
      status: response.status,
      location: response.headers.get("Location"),
      contentType: response.headers.get("Content-Type"),
      body: await response.text(),
    };
  }

  async function applyAnswer(sdp) {
    await requirePc().setRemoteDescription({ type: "answer", sdp });
  }

  function waitConnected(timeoutMs = 15000) {
    const pc = requirePc();
    const done = new Promise((resolve, reject) => {
      const check = () => {
        if (pc.connectionState === "connected") resolve();
        else if (pc.connectionState === "failed" || pc.connectionState === "closed") {
          reject(new Error(`connection ${pc.connectionState} (ICE ${pc.iceConnectionState})`));
        }
      };
      pc.addEventListener("connectionstatechange", check);
      check();
    });
    return withTimeout(done, timeoutMs, "connectionState 'connected'");
  }

  // What the fake devices actually deliver (size, frame rate), per local track.
  function trackSettings() {
    return state.stream ? state.stream.getTracks().map((t) => ({ kind: t.kind, ...t.getSettings() })) : [];
  }

  async function getStats() {
    return Array.from((await requirePc().getStats()).values());
  }

  function packetCounts(stats) {
    const counts = {};
    for (const s of stats) {
      const key = `${s.type}/${s.kind}`;
      if (s.type === "inbound-rtp") counts[key] = (counts[key] ?? 0) + (s.packetsReceived ?? 0);
      if (s.type === "outbound-rtp") counts[key] = (counts[key] ?? 0) + (s.packetsSent ?? 0);
    }
    return counts;
  }

  // Poll getStats until RTP has flowed both ways for every kind; the stats are returned.
  async function waitMedia(kinds = ["audio", "video"], timeoutMs = 15000) {
    const started = performance.now();
    for (;;) {
      const stats = await getStats();
      const counts = packetCounts(stats);
      const flowing = kinds.every(
        (kind) => counts[`inbound-rtp/${kind}`] > 0 && counts[`outbound-rtp/${kind}`] > 0);
      if (flowing) return stats;
      if (performance.now() - started > timeoutMs) {
        throw new Error(`timed out after ${timeoutMs} ms waiting for RTP both ways for ${kinds}: ` +
                        JSON.stringify(counts));
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  function waitOpen(dc) {
    return new Promise((resolve, reject) => {
      if (dc.readyState === "open") return resolve();
      dc.addEventListener("open", () => resolve());
      dc.addEventListener("close", () => reject(new Error(`data channel ${dc.label} closed`)));
    });
  }

  // Send `message` on the data channel and wait until the same text comes back.
  async function dcEcho(message, timeoutMs = 15000) {
    const dc = state.dc;
    if (!dc) throw new Error("no data channel: createOffer was called with datachannel: null");
    await withTimeout(waitOpen(dc), timeoutMs, `data channel '${dc.label}' to open`);
    const from = state.received.length;  // only an answer to this send counts
    const echoed = new Promise((resolve) => {
      const check = () => {
        if (state.received.indexOf(message, from) >= 0) resolve(message);
        else setTimeout(check, 20);
      };
      check();
    });
    dc.send(message);
    return withTimeout(echoed, timeoutMs, `echo of ${JSON.stringify(message)}`);
  }

  function close() {
    if (state.stream) state.stream.getTracks().forEach((track) => track.stop());
    if (state.pc) state.pc.close();
    Object.assign(state, { pc: null, dc: null, stream: null, received: [] });
  }

  window.rtcprobe = {
    createOffer, createAnswer, postOffer, applyAnswer, waitConnected, getStats, trackSettings,
    waitMedia, dcEcho, close,
  };
})();

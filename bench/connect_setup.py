"""Connection set-up on loopback: the probe, headless Chromium and plain aiortc against one target.

    .venv/bin/python bench/connect_setup.py [--runs 20] [--warmup 2] [--duration 3] [--json OUT]

One reference target (`rtcprobe.server`, default knobs) runs in a child process on 127.0.0.1.
Three clients take turns against its WHIP endpoint, in rotating order, each sending audio (Opus
tone / Chromium's fake microphone) and 640x480 30 fps video (test pattern / fake camera):

- the probe: `ProbeSession` with a capture file; milestones from `connect_breakdown`;
- headless Chromium (/usr/bin/chromium, tests/browser.py): milestones taken in the page with
  performance.now();
- plain aiortc: an RTCPeerConnection with the same tracks, no taps, no collector, no capture.

Every milestone is counted from the same origin on every peer: the instant the offer POST is sent
(the offer is complete then: all three gather before sending). Milestones: answer received, ICE
connected (iceConnectionState connected/completed), DTLS connected (the RTCDtlsTransport's state),
first media (the first RTP packet received: the probe's tap; Chromium's earliest of a remote
track's `unmute` and a 10 ms getStats poll of inbound-rtp packetsReceived started at DTLS
connected, both kept in the JSON; plain aiortc: a one-shot hook on each RTCRtpReceiver's first
packet).

Overhead: the probe and plain aiortc run the same session (same sources, `--duration` seconds of
media after first media); process CPU time per session (the target is another process), and the
ratio of the medians. A micro-measure times one tapped packet (PacketTap + StatsCollector) against
aiortc's own `RtpPacket.parse` of the same packet.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import aiortc
from _common import (
    PAGE_PATH,
    REPO,
    TargetProcess,
    load_average,
    markdown_table,
    median,
    ratio,
    summarize,
)
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaBlackhole
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket

from rtcprobe.analyze.latency import connect_breakdown
from rtcprobe.capture import load
from rtcprobe.probe import media
from rtcprobe.probe.loopback import loopback_candidates_only, restrict_to_loopback
from rtcprobe.probe.mediamap import MediaMap
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.probe.stats import StatsCollector
from rtcprobe.probe.taps import monotonic_clock, peer_connection_transports

sys.path.insert(0, str(REPO / "tests"))
from browser import BrowserPage, Chromium  # noqa: E402  (tests/browser.py: the Chromium harness)

MILESTONES = ("answer", "ice", "dtls", "first_media")
LABELS = {"answer": "answer received", "ice": "ICE connected", "dtls": "DTLS connected",
          "first_media": "first media (RTP in)"}
PEERS = ("probe", "chromium", "aiortc")
PEER_LABELS = {"probe": "rtcprobe probe", "chromium": "headless Chromium", "aiortc": "plain aiortc"}
VIDEO_SIZE, FPS = (640, 480), 30.0  # Chromium's fake camera default, matched by the test pattern
TIMEOUT = 20.0


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


# -- the probe ----------------------------------------------------------------------------------

async def probe_run(base_url: str, duration: float, workdir: Path, index: int) -> dict[str, Any]:
    options = ProbeOptions(target=base_url + "/whip", output=workdir / f"probe-{index}.jsonl",
                           protocol="whip", audio="tone", video=True, video_size=VIDEO_SIZE, fps=FPS,
                           duration=duration)
    cpu = time.process_time()
    result = await ProbeSession(options).run()
    cpu = time.process_time() - cpu
    if not result.ok:
        raise RuntimeError(f"probe run {index}: {result.reason}: {result.diagnosis}")
    capture = load(result.path)
    breakdown = connect_breakdown(capture)
    http, ice, dtls, first = (breakdown.phase(n) for n in ("http", "ice", "dtls", "first media"))
    assert http is not None and http.start is not None
    origin = http.start
    end = lambda phase: None if phase is None or phase.end is None else phase.end - origin  # noqa: E731
    reports = capture.last_stats()
    packets = sum(r.get("packetsSent", 0) + r.get("packetsReceived", 0) for r in reports
                  if r.get("type") in ("outbound-rtp", "inbound-rtp"))
    Path(result.path).unlink()
    return {"answer": _ms(end(http)), "ice": _ms(end(ice)), "dtls": _ms(end(dtls)),
            "first_media": _ms(end(first)), "cpu_s": cpu, "rtp_packets": packets}


# -- plain aiortc -------------------------------------------------------------------------------

async def aiortc_run(base_url: str, duration: float) -> dict[str, Any]:
    """The same session as the probe's, with nothing but aiortc: the overhead reference."""
    cpu = time.process_time()
    marks: dict[str, float] = {}
    first_media = asyncio.Event()
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    blackhole = MediaBlackhole()
    media.prefer_codec(pc.addTransceiver(media.audio_source("tone"), direction="sendrecv"), "opus")
    pc.addTransceiver(media.video_source(size=VIDEO_SIZE, fps=FPS), direction="sendrecv")
    pc.on("track", blackhole.addTrack)

    def mark(name: str) -> None:
        marks.setdefault(name, time.monotonic())

    @pc.on("iceconnectionstatechange")
    def on_ice() -> None:
        if pc.iceConnectionState in ("connected", "completed"):
            mark("ice")

    for transceiver in pc.getTransceivers():  # one-shot: the first RTP packet, then out of the way
        receiver = transceiver.receiver

        async def first_packet(packet: Any, arrival_time_ms: int, receiver: Any = receiver) -> None:
            mark("first_media")
            first_media.set()
            del receiver._handle_rtp_packet
            await receiver._handle_rtp_packet(packet, arrival_time_ms)

        receiver._handle_rtp_packet = first_packet

    await pc.setLocalDescription(await pc.createOffer())
    async with aiohttp.ClientSession() as http:  # a new connection per session, as the probe's
        origin = time.monotonic()
        async with http.post(base_url + "/whip", data=pc.localDescription.sdp,
                             headers={"Content-Type": "application/sdp"}) as response:
            answer = await response.text()
            location = response.headers["Location"]
        mark("answer")
        await pc.setRemoteDescription(RTCSessionDescription(loopback_candidates_only(answer), "answer"))
        for transport in peer_connection_transports(pc):
            transport.on("statechange", lambda t=transport: mark("dtls") if t.state == "connected" else None)
        await asyncio.wait_for(first_media.wait(), TIMEOUT)
        await asyncio.sleep(duration)
        async with http.delete(base_url + location):
            pass
    await blackhole.stop()
    await pc.close()
    cpu = time.process_time() - cpu
    return {name: _ms(marks[name] - origin) if name in marks else None for name in MILESTONES} | {"cpu_s": cpu}


# -- headless Chromium --------------------------------------------------------------------------

CHROMIUM_RUN = """
async ({url, width, height, fps, timeoutMs}) => {
  const deadline = performance.now() + timeoutMs;
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: {
    width: {exact: width}, height: {exact: height}, frameRate: {ideal: fps}}});
  const pc = new RTCPeerConnection({iceServers: []});
  for (const track of stream.getTracks()) pc.addTransceiver(track, {direction: "sendrecv", streams: [stream]});
  const marks = {};
  const mark = (name) => { if (!(name in marks)) marks[name] = performance.now(); };
  pc.addEventListener("iceconnectionstatechange", () => {
    if (["connected", "completed"].includes(pc.iceConnectionState)) mark("ice");
  });
  pc.addEventListener("connectionstatechange", () => { if (pc.connectionState === "connected") mark("connection"); });
  pc.addEventListener("track", (event) => {
    event.track.addEventListener("unmute", () => mark("unmute"), {once: true});
  });
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    const check = () => { if (pc.iceGatheringState === "complete") resolve(); };
    pc.addEventListener("icegatheringstatechange", check); check();
  });
  const origin = performance.now();
  const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/sdp"},
                                     body: pc.localDescription.sdp});
  const answer = await response.text();
  mark("answer");
  if (response.status !== 201) throw new Error(`POST ${url}: ${response.status} ${answer.slice(0, 200)}`);
  await pc.setRemoteDescription({type: "answer", sdp: answer});
  const dtls = pc.getSenders()[0].transport;  // one transport: the target answers with BUNDLE
  const onDtls = () => { if (dtls.state === "connected") mark("dtls"); };
  dtls.addEventListener("statechange", onDtls); onDtls();
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  while (!("dtls" in marks) && !("connection" in marks)) {
    if (performance.now() > deadline) throw new Error(`no DTLS: ICE ${pc.iceConnectionState}`);
    await sleep(2);  // a timer, not getStats: nothing polls the peer while it connects
  }
  while (!("stats" in marks)) {  // both signs of the first packet are kept, to compare them
    if (performance.now() > deadline) throw new Error("no RTP received");
    const stats = await pc.getStats();
    for (const s of stats.values()) if (s.type === "inbound-rtp" && s.packetsReceived > 0) mark("stats");
    if (!("stats" in marks)) await sleep(10);
  }
  for (let i = 0; i < 20 && !("unmute" in marks); i++) await sleep(5);
  const firstMedia = Math.min(marks.unmute ?? Infinity, marks.stats);
  const location = new URL(response.headers.get("Location"), url).href;
  await fetch(location, {method: "DELETE"});
  pc.close();
  stream.getTracks().forEach((track) => track.stop());
  const rel = (t) => (t === undefined ? null : t - origin);
  return {answer: rel(marks.answer), ice: rel(marks.ice), dtls: rel(marks.dtls ?? marks.connection),
          first_media: rel(firstMedia), unmute: rel(marks.unmute), stats_poll: rel(marks.stats)};
}
"""


async def chromium_run(page: BrowserPage, base_url: str) -> dict[str, Any]:
    width, height = VIDEO_SIZE
    arg = {"url": base_url + "/whip", "width": width, "height": height, "fps": FPS,
           "timeoutMs": TIMEOUT * 1000}
    return await page.evaluate(CHROMIUM_RUN, arg, timeout=TIMEOUT + 5)


# -- per packet -----------------------------------------------------------------------------------

class _StandIn:
    """The three methods PacketTap wraps on an RTCDtlsTransport, doing nothing: what remains of
    a tapped call is the tap and the collector."""

    state = "connected"

    async def _handle_rtp_data(self, data: bytes, arrival_time_ms: int) -> None:
        pass

    async def _handle_rtcp_data(self, data: bytes) -> None:
        pass

    async def _send_rtp(self, data: bytes) -> None:
        pass


def _video_packets(count: int = 4096) -> tuple[list[bytes], HeaderExtensionsMap]:
    """What aiortc sends for VP8: ~1.1 kB payloads, mid + abs-send-time, 3 packets a frame."""
    extensions = HeaderExtensionsMap()
    extensions.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=1, uri="urn:ietf:params:rtp-hdrext:sdes:mid"),
        RTCRtpHeaderExtensionParameters(id=2, uri="http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"),
    ]))
    packets = []
    for seq in range(count):
        packet = RtpPacket(payload_type=96, marker=int(seq % 3 == 2), sequence_number=seq,
                           timestamp=(seq // 3) * 3000, ssrc=0x1234, payload=bytes(1100))
        packet.extensions.mid = "1"
        packet.extensions.abs_send_time = seq * 64
        packets.append(packet.serialize(extensions))
    return packets, extensions


async def _ns_per_packet(body: Callable[[], Awaitable[int]], seconds: float) -> float:
    """Median over five windows of the time per packet (`body` returns how many it handled)."""
    times = []
    for _ in range(5):
        done, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 5:
            done += await body()
        times.append((time.perf_counter() - start) / done * 1e9)
    return statistics.median(times)


async def per_packet(seconds: float) -> dict[str, Any]:
    """ns per received RTP packet: aiortc's parse, and what the tap plus the collector add."""
    packets, extensions = _video_packets()
    clock = monotonic_clock()

    async def parse() -> int:
        for data in packets:
            RtpPacket.parse(data, extensions)
        return len(packets)

    def through(tapped: bool) -> Callable[[], Awaitable[int]]:
        async def one_pass() -> int:
            transport = _StandIn()
            if tapped:  # a fresh collector a pass: sequence numbers start again
                StatsCollector(clock=clock, media=MediaMap(clock_rates={96: 90000})).attach(transport)  # type: ignore[arg-type]
            handle = transport._handle_rtp_data
            for data in packets:
                await handle(data, 0)
            return len(packets)
        return one_pass

    parse_ns = await _ns_per_packet(parse, seconds)
    tap_ns = await _ns_per_packet(through(True), seconds) - await _ns_per_packet(through(False), seconds)
    return {"packet_bytes": len(packets[0]), "rtp_packet_parse_ns": round(parse_ns),
            "tap_and_collector_ns": round(tap_ns), "tap_over_parse": round(tap_ns / parse_ns, 2)}


# -- the run ------------------------------------------------------------------------------------

async def measure(args: argparse.Namespace, base_url: str, chromium: Chromium | None) -> dict[str, list[dict]]:
    results: dict[str, list[dict]] = {peer: [] for peer in PEERS}
    page = await chromium.new_page(base_url + PAGE_PATH) if chromium else None
    workdir = Path(tempfile.mkdtemp(prefix="rtcprobe-bench-"))
    try:
        for round_ in range(args.warmup + args.runs):
            order = PEERS[round_ % 3:] + PEERS[:round_ % 3]  # rotate: no peer always runs first
            for peer in order:
                if peer == "probe":
                    run = await probe_run(base_url, args.duration, workdir, round_)
                elif peer == "aiortc":
                    run = await aiortc_run(base_url, args.duration)
                elif page is not None:
                    run = await chromium_run(page, base_url)
                else:
                    continue
                if round_ >= args.warmup:
                    results[peer].append(run)
                await asyncio.sleep(0.2)  # let the target close the session
            done = round_ + 1 - args.warmup
            print(f"round {round_ + 1}/{args.warmup + args.runs}" + (" (warm-up)" if done <= 0 else ""),
                  file=sys.stderr, flush=True)
    finally:
        if page is not None:
            await page.close()
        with contextlib.suppress(OSError):
            workdir.rmdir()
    return results


def report(results: dict[str, list[dict]], micro: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    setup = {peer: {m: summarize([r[m] for r in runs]) for m in MILESTONES}
             for peer, runs in results.items() if runs}
    cpu = {peer: summarize([r["cpu_s"] for r in results[peer]], 3) for peer in ("probe", "aiortc")}
    paired = [p["cpu_s"] / a["cpu_s"] for p, a in zip(results["probe"], results["aiortc"], strict=True)]
    packets = median(r["rtp_packets"] for r in results["probe"]) or 0
    summary = {
        **meta,
        "setup_ms_from_post": setup,
        "chromium_first_media_signs_ms": {sign: summarize([r[sign] for r in results["chromium"]])
                                          for sign in ("unmute", "stats_poll")} if results["chromium"] else None,
        "overhead": {
            "cpu_s_per_session": cpu,
            "cpu_ratio_probe_over_aiortc": ratio(cpu["probe"]["median"], cpu["aiortc"]["median"]),
            "cpu_ratio_paired_median": round(median(paired), 3) if paired else None,
            "setup_ratio_probe_over_aiortc": {
                m: ratio(setup["probe"][m]["median"], setup["aiortc"][m]["median"]) for m in MILESTONES},
        },
        "per_packet": micro | {
            "rtp_packets_per_session": packets,  # both ways, from the probe's last stats sample
            "tap_cpu_ms_per_session": round(packets * micro["tap_and_collector_ns"] / 1e6, 2),
            "extra_cpu_ms_per_session": round(1000 * (cpu["probe"]["median"] - cpu["aiortc"]["median"]), 1),
        },
    }
    return summary


def tables(summary: dict[str, Any]) -> str:
    setup = summary["setup_ms_from_post"]
    peers = [p for p in PEERS if p in setup]
    rows = [[LABELS[m]] + [_cell(setup[p][m]) for p in peers] for m in MILESTONES]
    out = [f"Connection set-up, ms from sending the offer POST (median [p25–p75] of {summary['runs']} runs)", "",
           markdown_table(["milestone"] + [PEER_LABELS[p] for p in peers], rows), ""]
    overhead, cpu, micro = summary["overhead"], summary["overhead"]["cpu_s_per_session"], summary["per_packet"]
    rows = [[f"CPU s per session ({summary['duration_s']:g} s of audio+video after first media)",
             cpu["aiortc"]["median"], cpu["probe"]["median"], f"**{overhead['cpu_ratio_probe_over_aiortc']}×**"]]
    rows += [[f"{LABELS[m]}, ms", setup["aiortc"][m]["median"], setup["probe"][m]["median"],
              f"{overhead['setup_ratio_probe_over_aiortc'][m]}×"] for m in MILESTONES[1:]]
    rows += [["per received RTP packet, ns: `RtpPacket.parse` vs tap + collector",
              micro["rtp_packet_parse_ns"], micro["tap_and_collector_ns"], f"{micro['tap_over_parse']}×"]]
    out += ["Probe overhead against plain aiortc (medians; ratio = probe / aiortc)", "",
            markdown_table(["measure", "plain aiortc", "probe", "ratio"], rows)]
    return "\n".join(out)


def _cell(s: dict[str, Any]) -> str:
    if s["median"] is None:
        return "—"
    return f"{s['median']:.1f} [{s['p25']:.1f}–{s['p75']:.1f}]" if s["p25"] is not None else f"{s['median']:.1f}"


async def amain(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, list[dict]]]:
    restrict_to_loopback()  # as the probe does for a loopback target: plain aiortc gathers the same
    meta = {"runs": args.runs, "warmup": args.warmup, "duration_s": args.duration,
            "video": f"{VIDEO_SIZE[0]}x{VIDEO_SIZE[1]}@{FPS:g}", "aiortc": aiortc.__version__,
            "load_average_before": load_average()}
    micro = await per_packet(args.micro_seconds)
    chromium = None if args.no_chromium else Chromium().start()
    try:
        meta["chromium"] = chromium.version if chromium else None
        with TargetProcess() as target:
            started = time.monotonic()
            results = await measure(args, target.base_url, chromium)
            meta["measure_seconds"] = round(time.monotonic() - started, 1)
    finally:
        if chromium:
            chromium.close()
    meta["load_average_after"] = load_average()
    return report(results, micro, meta), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="measured sessions per peer (default 20)")
    parser.add_argument("--warmup", type=int, default=2, help="sessions per peer not counted (default 2)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of media after first media")
    parser.add_argument("--micro-seconds", type=float, default=2.0, help="time per per-packet measure")
    parser.add_argument("--no-chromium", action="store_true", help="probe and plain aiortc only")
    parser.add_argument("--json", type=Path, help="also write the summary and every run's figures here")
    args = parser.parse_args()
    summary, runs = asyncio.run(amain(args))
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary | {"runs_raw": runs}, indent=2) + "\n")
    print()
    print(tables(summary))


if __name__ == "__main__":
    main()

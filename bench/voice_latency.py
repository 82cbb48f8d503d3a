"""The voice-turn measurement's own error and cost.

    .venv/bin/python bench/voice_latency.py [--turns 5] [--think 300,900] [--silence 500]

Error: `capture --turns` against `rtcprobe serve --voice-agent` in a process of its own, whose
true instants (time.monotonic(), the clock the capture counts from) come back in its events:
  start error   agent_speech_start - (target's first answer packet sent + RTT/2), per turn
  v2v vs target v2v_ms - (target's own v2v + RTT): the two VADs' views of the user's end
  v2v vs S+T    median v2v_ms - (S + T + RTT): what the issue's done-when checks
Cost: the probe's own work per turn: PCM conversion + VAD of every received 20 ms frame
(VoiceObserver.decode_seconds: wall time on the busy event loop, an upper bound), and, offline, Opus decode + VAD per frame (what a receiver that
did not decode anyway would add), against the 20 ms of real time a frame lasts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fractions
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
from aiortc.codecs import get_decoder, get_encoder
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcrtpparameters import RTCRtpCodecParameters

from rtcprobe.capture import load
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.voice import utterances
from rtcprobe.voice.vad import StreamingVad, frame_pcm


async def target(flags: list[str]) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-m", "rtcprobe.cli", "serve", "--port", str(port), *flags],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return process, f"http://127.0.0.1:{port}"
        await asyncio.sleep(0.05)
    raise RuntimeError("the target did not start")


async def measure(think: int, silence: int, turns: int, folder: Path) -> dict:
    process, base = await target(["--voice-agent", "--think-ms", str(think), "--vad-silence-ms", str(silence)])
    try:
        opts = ProbeOptions(target=base + "/v1/realtime/calls", output=folder / f"t{think}.jsonl", protocol="openai",
                            turns=turns, listen_timeout=8.0, duration=1.0)
        session = ProbeSession(opts)
        cpu = time.process_time()
        result = await session.run()
        cpu = time.process_time() - cpu
    finally:
        process.terminate()
        process.wait(10)
    capture = load(result.path)
    origin = session.writer.start
    truths = [json.loads(m["data"])["rtcprobe"] for m in capture.of("dc_message")
              if m["direction"] == "received" and m.get("json_type") == "response.done"]
    sent = [t["first_packet_sent_at"] - origin for t in truths if t.get("first_packet_sent_at")]
    start_err, v2v_err, v2vs, rtts = [], [], [], []
    for turn in capture.of("voice_turn"):
        if not turn["answered"]:
            continue
        rtt = (turn["rtt_ms"] or 0) / 1000
        first = min(sent, key=lambda at: abs(at - turn["agent_speech_start"]))
        truth = next(t for t in truths if t.get("first_packet_sent_at") and abs(t["first_packet_sent_at"] - origin - first) < 1e-9)
        start_err.append(1000 * (turn["agent_speech_start"] - first - rtt / 2))
        v2v_err.append(turn["v2v_ms"] - truth["v2v_target_ms"] - 1000 * rtt)
        v2vs.append(turn["v2v_ms"])
        rtts.append(1000 * rtt)
    observer = session._turns.observer  # type: ignore[union-attr]
    return {"think_ms": think, "silence_ms": silence, "turns": turns, "answered": len(v2vs),
            "v2v_median_ms": statistics.median(v2vs), "rtt_median_ms": statistics.median(rtts),
            "v2v_vs_S_T_ms": statistics.median(v2vs) - silence - think - statistics.median(rtts),
            "start_error_ms": {"median": statistics.median(start_err), "max_abs": max(map(abs, start_err))},
            "v2v_vs_target_ms": {"median": statistics.median(v2v_err), "max_abs": max(map(abs, v2v_err))},
            "probe_cpu_s_per_turn": cpu / turns,
            "observer_wall_ms_per_turn": 1000 * observer.decode_seconds / turns,
            "observer_wall_us_per_frame": 1e6 * observer.decode_seconds / max(1, observer.vad.frames)}


def offline_cost(seconds: float = 20.0) -> dict:
    """Opus decode + PCM conversion + VAD per 20 ms frame, on the shipped answer, looped."""
    codec = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)
    encoder, decoder = get_encoder(codec), get_decoder(codec)
    pcm = np.resize(utterances.answer().pcm, int(seconds * 48000) // 960 * 960)
    packets = []
    for i in range(0, pcm.size, 960):
        frame = av.AudioFrame.from_ndarray(pcm[i:i + 960].reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = 48000, i, fractions.Fraction(1, 48000)
        payloads, ts = encoder.encode(frame)
        packets.append(JitterFrame(payloads[0], ts))
    vad = StreamingVad()
    started = time.process_time()
    decoded = [f for p in packets for f in decoder.decode(p)]
    decode_s = time.process_time() - started
    started = time.process_time()
    for i, frame in enumerate(decoded):
        vad.push(frame_pcm(frame), i * 0.02)
    vad_s = time.process_time() - started
    frames = len(packets)
    return {"frames": frames, "opus_decode_us_per_frame": 1e6 * decode_s / frames,
            "vad_us_per_frame": 1e6 * vad_s / frames,
            "share_of_real_time_pct": 100 * (decode_s + vad_s) / (frames * 0.02)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--think", default="300,900")
    parser.add_argument("--silence", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        runs = [await measure(int(t), args.silence, args.turns, Path(folder)) for t in args.think.split(",")]
    out = {"runs": runs, "offline": offline_cost()}
    if len(runs) >= 2:
        out["median_difference_ms"] = runs[-1]["v2v_median_ms"] - runs[0]["v2v_median_ms"]
    print(json.dumps(out, indent=1, default=lambda v: round(v, 3)))


if __name__ == "__main__":
    asyncio.run(main())

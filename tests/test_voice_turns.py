"""Scripted voice turns (`capture --turns`): voice-to-voice latency on the wire, checked against a
target whose timing is known (`serve --voice-agent`, whose true instants travel in its events'
`rtcprobe` field, on this process's time.monotonic(), the same clock as the capture's)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import numpy as np
import pytest
from browser import sdp_post_endpoint

from rtcprobe.analyze.voice import PARTS, breakdown, voice_summary
from rtcprobe.capture import Capture, load
from rtcprobe.capture.validate import check_event
from rtcprobe.cli import main
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.probe.turns import ScriptedSource
from rtcprobe.voice import utterances

TOLERANCE_MS = 40.0
S_MS = 500


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., object]]:
    """`rtcprobe serve` in a process of its own (its event loop does not share the probe's: each
    side's packet stamps are its own), started with the given flags; stopped after the test.
    Both processes read CLOCK_MONOTONIC, so the target's truth and the capture share a clock."""
    processes: list[subprocess.Popen] = []

    async def start(*flags: str) -> str:
        with socket.socket() as probe_port:
            probe_port.bind(("127.0.0.1", 0))
            port = probe_port.getsockname()[1]
        process = subprocess.Popen([sys.executable, "-m", "rtcprobe.cli", "serve", "--port", str(port), *flags],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return f"http://127.0.0.1:{port}"
            await asyncio.sleep(0.05)
        raise RuntimeError(f"rtcprobe serve {' '.join(flags)} did not listen on {port}")

    yield start
    for process in processes:
        process.terminate()
        process.wait(10)


def agent(think: int) -> tuple[str, ...]:
    return ("--voice-agent", "--think-ms", str(think), "--vad-silence-ms", str(S_MS))


async def run_turns(tmp_path: Path, base: str, name: str, **options: object) -> tuple[Capture, float]:
    """A probe session with turns against the realtime-calls endpoint; the capture and its clock's
    monotonic origin (to place the target's truth on the capture clock)."""
    opts = ProbeOptions(target=base + "/v1/realtime/calls", output=tmp_path / f"{name}.jsonl", protocol="openai",
                        duration=1.0, **options)  # type: ignore[arg-type]
    session = ProbeSession(opts)
    result = await session.run()
    assert result.reason == "completed", result.diagnosis
    return load(result.path), session.writer.start


def target_truth(capture: Capture, origin: float) -> list[dict]:
    """The target's turns (response.done carries each whole), instants moved to the capture clock."""
    out = []
    for message in capture.of("dc_message"):
        if message["direction"] == "received" and message.get("json_type") == "response.done":
            truth = json.loads(message["data"])["rtcprobe"]
            out.append({k: (v - origin if isinstance(v, float) and k.endswith("_at") and k != "at" else v)
                        for k, v in truth.items()})
    return out


def rtt_s(turn: dict) -> float:
    return (turn["rtt_ms"] or 0.0) / 1000


# -- pure parts -------------------------------------------------------------------------------
def test_breakdown_parts_sum_to_v2v() -> None:
    fields, why = breakdown(10.0, 10.70, 10.75, 0.020, {"input_audio_buffer.speech_stopped": 10.53})
    assert fields["v2v_ms"] == 750.0
    assert sum(fields[p] for p in PARTS) == pytest.approx(fields["v2v_ms"])
    assert fields["turn_detection_ms"] == pytest.approx(510.0)  # 10.53 - 10.0 - RTT
    assert fields["server_first_audio_ms"] == pytest.approx(170.0)
    assert fields["silent_padding_ms"] == pytest.approx(50.0) and fields["first_packet_ms"] == pytest.approx(700.0)
    assert why == {}


def test_breakdown_without_answer_is_no_answer_not_a_number() -> None:
    fields, why = breakdown(10.0, None, None, 0.02, {})
    assert fields["v2v_ms"] is None and "no answer" in why["v2v_ms"]
    fields, why = breakdown(10.0, 10.7, 10.75, 0.02, {})
    assert fields["turn_detection_ms"] is None and "speech_stopped" in why["turn_detection_ms"]
    assert fields["server_side_ms"] == pytest.approx(680.0)


def test_scripted_source_speaks_at_the_next_frame_then_silence() -> None:
    source = ScriptedSource(realtime=False)
    spoken = utterances.shipped("user")[0]
    assert not source.samples(0, 960).any()
    at = source.speak(spoken.pcm)
    assert at == 960
    played = np.concatenate([source.samples(960 + i * 960, 960) for i in range(spoken.pcm.size // 960 + 3)])
    assert np.array_equal(played[:spoken.pcm.size], spoken.pcm)
    assert not played[spoken.pcm.size:].any()


def test_a_wav_without_speech_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import wave

    path = tmp_path / "quiet.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(48000)
        w.writeframes(np.zeros(48000, dtype=np.int16).tobytes())
    code = main(["capture", "http://127.0.0.1:9/v1/realtime/calls", "--turns", "2", "--utterances", str(path)])
    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1 and "quiet.wav" in err and "no speech" in err


# -- against serve --voice-agent ----------------------------------------------------------------
def nearest(truths: list[dict], key: str, at: float) -> dict:
    return min((t for t in truths if t.get(key) is not None), key=lambda t: abs(t[key] - at))


@pytest.mark.slow
async def test_v2v_follows_think_time_and_matches_the_target(serve, tmp_path: Path) -> None:
    """Per turn, against what the target did (its true instants): the answer's first audible
    audio arrived one way after the target sent it; over the 5 turns, the probe's V2V is the
    target's own plus RTT, and the median V2V is the target's S + T + RTT (the target itself runs on a shared event loop,
    so one turn may be late by the target's own doing: its truth says so, and the median ignores it)."""
    medians = {}
    for think in (300, 900):
        base = await serve(*agent(think))
        capture, origin = await run_turns(tmp_path, base, f"think{think}", turns=5, listen_timeout=8.0)
        turns = capture.of("voice_turn")
        assert len(turns) == 5 and all(t["answered"] for t in turns), [t.get("unmeasured") for t in turns]
        truths = target_truth(capture, origin)
        heard: list[float] = []
        for turn in turns:
            assert check_event(turn) is None
            owd = rtt_s(turn) / 2
            sent = nearest(truths, "first_packet_sent_at", turn["agent_speech_start"])
            assert abs(turn["agent_speech_start"] - sent["first_packet_sent_at"] - owd) * 1000 <= TOLERANCE_MS
            # the target's own V2V starts where ITS VAD heard the end, on Opus-decoded audio; the
            # probe's where the source's speech ended: they agree to a frame or two, not exactly
            heard.append(turn["v2v_ms"] - sent["v2v_target_ms"] - 1000 * rtt_s(turn))
            assert turn["agent_speech_end"] > turn["agent_speech_start"] + 3.0  # the answer's 0.4 s pause is not its end
            assert turn["silent_padding_ms"] <= TOLERANCE_MS  # the target's answer starts with its first word
        assert abs(statistics.median(heard)) <= TOLERANCE_MS, heard
        medians[think] = statistics.median(t["v2v_ms"] for t in turns)
        rtt = statistics.median(rtt_s(t) for t in turns)
        assert abs(medians[think] - (S_MS + think + 1000 * rtt)) <= TOLERANCE_MS, (think, medians[think])
        summary = voice_summary(capture)
        assert summary.answered == 5 and summary.v2v.median == pytest.approx(medians[think])
        assert len(capture.turns()) == 5
    assert abs(medians[900] - medians[300] - 600) <= TOLERANCE_MS, medians


@pytest.mark.slow
async def test_barge_in_stop_matches_what_the_target_did(serve, tmp_path: Path) -> None:
    base = await serve(*agent(300))
    capture, origin = await run_turns(tmp_path, base, "barge", turns=3, listen_timeout=8.0, barge_in_ms=800)
    truths = [t for t in target_truth(capture, origin) if t.get("status") == "cancelled"]
    assert truths and all(t.get("last_packet_sent_at") for t in truths)
    turns = [t for t in capture.of("voice_turn") if t.get("interruption_ms") is not None]
    assert len(turns) == 3, [t.get("unmeasured") for t in capture.of("voice_turn")]
    for turn in turns:
        # what the target did: its last answer packet left (it had heard the barge-in); the probe
        # hears that packet one way later. The probe's interruption counts from its own barge-in
        # speech leaving (the target's count starts where its VAD heard that speech, later).
        truth = nearest(truths, "last_packet_sent_at", turn["agent_stop"])
        stopped = truth["last_packet_sent_at"] + rtt_s(turn) / 2
        assert abs(turn["agent_stop"] - stopped) * 1000 <= TOLERANCE_MS, (turn["agent_stop"], stopped)
        assert turn["interruption_ms"] == pytest.approx(1000 * (turn["agent_stop"] - turn["barge_in_start"]), abs=0.01)
        assert turn["barge_in_start"] < truth["barge_in_speech_at"] < turn["agent_stop"]


@pytest.mark.slow
async def test_an_agent_that_never_answers_is_recorded_as_no_answer(serve, tmp_path: Path) -> None:
    base = await serve(*agent(60_000))
    capture, _ = await run_turns(tmp_path, base, "silent", turns=2, listen_timeout=2.0)
    turns = capture.of("voice_turn")
    assert [t["answered"] for t in turns] == [False, False]
    assert all(t["v2v_ms"] is None and "no answer" in t["unmeasured"]["v2v_ms"] for t in turns)
    assert voice_summary(capture).v2v.n == 0 and voice_summary(capture).unanswered == 2


@pytest.mark.slow
async def test_an_echo_is_no_answer(serve, tmp_path: Path) -> None:
    """The plain target echoes the utterance: its speech starts before the user's ends, so no turn
    is answered (an echo is not an answer)."""
    base = await serve()
    capture, _ = await run_turns(tmp_path, base, "echo", turns=1, listen_timeout=2.0)
    [turn] = capture.of("voice_turn")
    assert turn["answered"] is False and turn["user_speech_end"] is not None


# -- headless Chromium as the far end, looping the probe's speech back through a Web Audio delay --
DELAYED_ECHO = """async ([offer, delay]) => {
  const pc = new RTCPeerConnection();
  const ctx = new AudioContext({sampleRate: 48000});
  const line = ctx.createDelay(Math.max(1, delay + 1));
  line.delayTime.value = delay;
  const out = ctx.createMediaStreamDestination();
  line.connect(out);
  window.voiceEcho = {pc, ctx, line};
  pc.addEventListener("track", (event) => {
    const stream = new MediaStream([event.track]);
    const sink = new Audio();  // Chromium feeds a remote track into Web Audio only when something plays it
    sink.muted = true;
    sink.srcObject = stream;
    sink.play().catch(() => {});
    ctx.createMediaStreamSource(stream).connect(line);
  });
  await pc.setRemoteDescription({type: "offer", sdp: offer});
  const [transceiver] = pc.getTransceivers();
  transceiver.direction = "sendrecv";
  await transceiver.sender.replaceTrack(out.stream.getAudioTracks()[0]);
  await pc.setLocalDescription(await pc.createAnswer());
  await new Promise((done) => {
    if (pc.iceGatheringState === "complete") return done();
    pc.addEventListener("icegatheringstatechange", () => pc.iceGatheringState === "complete" && done());
  });
  await ctx.resume();
  return pc.localDescription.sdp;
}"""


async def echo_offsets(page, tmp_path: Path, delays: tuple[float, float], turns: int = 6) -> list[tuple[float, float]]:
    """Per turn, (the DelayNode's delay, the echo's first audible audio arriving - the user's first
    voiced packet leaving, ms). The delay alternates: set between turns, while the line holds
    silence, in one session."""
    async def answer(offer: str) -> str:
        return await page.evaluate(DELAYED_ECHO, [offer, delays[0]], timeout=30)

    async with sdp_post_endpoint(answer) as url:
        try:
            opts = ProbeOptions(target=url, output=tmp_path / "echo.jsonl", protocol="sdp-post", offer="aiortc",
                                turns=turns, listen_timeout=max(delays) + 3, duration=1.0)
            session = ProbeSession(opts)
            run = asyncio.ensure_future(session.run())
            done = 0
            while not run.done():
                if session._turns is not None and session._turns.done != done:
                    done = session._turns.done
                    await page.evaluate("(d) => { window.voiceEcho.line.delayTime.value = d; }", delays[done % 2])
                await asyncio.sleep(0.02)
            result = await run
        finally:
            await page.evaluate("() => { window.voiceEcho.pc.close(); return window.voiceEcho.ctx.close(); }")
    assert result.reason == "completed", result.diagnosis
    measured = load(result.path).of("voice_turn")
    assert len(measured) == turns and all(t["answered"] for t in measured), [t.get("unmeasured") for t in measured]
    return [(delays[i % 2], 1000 * (t["agent_speech_start"] - t["user_speech_start"])) for i, t in enumerate(measured)]


@pytest.mark.slow
@pytest.mark.alone
async def test_a_delayed_chromium_echo_is_measured_at_its_delay(page, tmp_path: Path) -> None:
    """Chromium answers and sends back what it hears through a DelayNode. Its own path (jitter buffer,
    Web Audio, encoder) adds latency the test cannot know exactly, and a new session's differs from
    the last one's by tens of ms, so one session alternates two delays turn by turn: the probe's echo
    offsets of adjacent turns differ by the difference of the delays, and are never less than the
    delay. Chromium's own latency drifts during a session and can jump by 100 ms or more when its
    jitter buffer adapts on a loaded machine, so the median of the five adjacent differences is
    judged: one jump moves at most two of them."""
    turns = await echo_offsets(page, tmp_path, (2.0, 3.0))
    steps = [abs(b - a) for (_, a), (_, b) in zip(turns, turns[1:], strict=False)]
    assert abs(statistics.median(steps) - 1000) <= TOLERANCE_MS, turns
    assert all(offset >= 1000 * delay for delay, offset in turns), turns

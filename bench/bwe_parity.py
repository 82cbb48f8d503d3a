"""Does Chromium send to the probe as it sends to a Chromium peer? transport-cc parity.

A browser-grade sender sizes its stream from the receiver's transport-cc feedback; a receiver
that sends none (aiortc alone) is a legacy REMB-only endpoint, and sees a poorer service than a
real user gets. This measures, on the same machine in the same run, Chromium's own getStats
`candidate-pair.availableOutgoingBitrate` (its send-side estimate toward the far end) when the
far end is the rtcprobe probe, and when it is another Chromium page, both through the seeded
drop relay of tests/relay.py (clean, and at 10 % RTP loss each way), and prints the ratio.

    .venv/bin/python bench/bwe_parity.py                 # 3 runs each, clean and 10 % loss, 20 s
    .venv/bin/python bench/bwe_parity.py --runs 5 --seconds 30 --loss 0 10

The figure per session is the mean of the last `TAIL` seconds of 1 s samples (its settled value);
per loss, the figure is the ratio of the medians over runs. Sessions alternate (probe, then
Chromium peer) so that both meet the same machine load.
tests/test_twcc_chromium.py runs the same sessions (`probe_session`, `chromium_session`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from browser import BrowserPage, Chromium, get_stats, sdp_post_endpoint, stats_of_type  # noqa: E402
from relay import Relay  # noqa: E402

from rtcprobe.probe.options import PhaseTimeouts, ProbeOptions  # noqa: E402
from rtcprobe.probe.session import ProbeSession  # noqa: E402
from rtcprobe.probe.taps import RECEIVED, RTCP, PacketTap, peer_connection_transports  # noqa: E402
from rtcprobe.probe.twcc_codec import iter_feedback  # noqa: E402

#: What Chromium (the measured sender) captures and sends: its fake camera, at the harness size.
SENDER_MEDIA = {"audio": True, "video": True, "width": 640, "height": 480, "frameRate": None}
#: What the far end sends back: small, so that the probe's Python encoder is not the bottleneck.
FAR_MEDIA = {"audio": True, "video": True, "width": 320, "height": 240, "frameRate": None}
PROBE_FPS = 15
TAIL = 3.0


@dataclass
class Session:
    """One measured session: Chromium's estimate toward the far end, sampled every second."""

    far_end: str  # "probe" | "chromium"
    loss: float
    samples: list[tuple[float, float]] = field(default_factory=list)  # (s since connected, bit/s)
    feedback: list[bytes] = field(default_factory=list)  # transport-cc packets Chromium sent the probe
    chromium_stats: list[dict[str, Any]] = field(default_factory=list)
    probe_pair: dict[str, Any] = field(default_factory=dict)  # the probe's last candidate-pair report

    @property
    def settled(self) -> float:
        if not self.samples:
            return 0.0
        end = self.samples[-1][0]
        return statistics.fmean(v for t, v in self.samples if t >= end - TAIL + 0.01)


class RelayProcess:
    """tests/relay.py in a child process with its own event loop. In the probe's process it would
    share the probe's event loop, and every stall of that loop (decoding 640x480 VP8 in Python on
    a busy machine) would hold packets on the "wire": real queueing delay, which a delay-based
    sender rightly backs off from, but which the Chromium-to-Chromium session would not have."""

    def __init__(self, loss: float, seed: int) -> None:
        self.loss, self.seed = loss, seed
        self._child: asyncio.subprocess.Process | None = None

    async def start(self) -> RelayProcess:
        self._child = await asyncio.create_subprocess_exec(
            sys.executable, str(Path(__file__).resolve()), "--relay-child", str(self.loss), str(self.seed),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, cwd=REPO)
        return self

    async def _ask(self, op: str, sdp: str) -> str:
        assert self._child is not None and self._child.stdin is not None and self._child.stdout is not None
        self._child.stdin.write((json.dumps({"op": op, "sdp": sdp}) + "\n").encode())
        await self._child.stdin.drain()
        reply = json.loads(await asyncio.wait_for(self._child.stdout.readline(), 10))
        if "error" in reply:
            raise ValueError(reply["error"])
        return reply["sdp"]

    async def rewrite_offer(self, sdp: str) -> str:
        return await self._ask("offer", sdp)

    async def rewrite_answer(self, sdp: str) -> str:
        return await self._ask("answer", sdp)

    async def close(self) -> None:
        if self._child is not None and self._child.returncode is None:
            assert self._child.stdin is not None
            self._child.stdin.close()
            try:
                await asyncio.wait_for(self._child.wait(), 5)
            except TimeoutError:
                self._child.kill()
                await self._child.wait()


async def relay_child(loss: float, seed: int) -> None:
    """The child's side: a Relay, and SDP rewrites asked for one JSON line at a time on stdin."""
    relay = await Relay(loss_percent=loss, seed=seed).start()
    loop = asyncio.get_running_loop()
    try:
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            request = json.loads(line)
            try:
                rewrite = relay.rewrite_offer if request["op"] == "offer" else relay.rewrite_answer
                reply = {"sdp": rewrite(request["sdp"])}
            except ValueError as exc:
                reply = {"error": str(exc)}
            print(json.dumps(reply), flush=True)
    finally:
        relay.close()


def selected_pair(stats: list[dict[str, Any]]) -> dict[str, Any]:
    transport = next(iter(stats_of_type(stats, "transport")), {})
    pairs = {p["id"]: p for p in stats_of_type(stats, "candidate-pair")}
    return pairs.get(transport.get("selectedCandidatePairId"), {})


async def sample(page: BrowserPage, session: Session, seconds: float,
                 until: Callable[[Session], bool] | None = None) -> None:
    """Chromium's estimate every second for `seconds` (missing while it has none), or until `until`
    says so (tests/test_twcc_chromium.py: once Chromium's encoder has ramped)."""
    start = asyncio.get_running_loop().time()
    while (elapsed := asyncio.get_running_loop().time() - start) < seconds:
        await asyncio.sleep(1.0)
        stats = await get_stats(page)
        pair = selected_pair(stats)
        if "availableOutgoingBitrate" in pair:
            session.samples.append((elapsed + 1.0, float(pair["availableOutgoingBitrate"])))
        session.chromium_stats = stats
        if until is not None and until(session):
            return


@contextlib.asynccontextmanager
async def answering_target(page: BrowserPage, relay: RelayProcess) -> AsyncIterator[str]:
    """An sdp-post endpoint whose answerer is the Chromium page, with the relay in between."""
    async def answer(offer: str) -> str:
        sdp = await page.evaluate("([offer, o]) => rtcprobe.createAnswer(offer, o)",
                                  [await relay.rewrite_offer(offer), SENDER_MEDIA], timeout=30)
        return await relay.rewrite_answer(sdp)

    async with sdp_post_endpoint(answer) as url:
        yield url


async def probe_session(chromium: Chromium, loss: float, seconds: float, seed: int, output: Path,
                        offer: str = "chrome", until: Callable[[Session], bool] | None = None) -> Session:
    """The probe offers (`chrome`, the default: transport-wide-cc; `aiortc`: abs-send-time and REMB
    only, the control), Chromium answers and sends."""
    result = Session("probe" if offer == "chrome" else f"probe --offer {offer}", loss)
    relay = await RelayProcess(loss, seed).start()
    try:
        async with chromium.open_page() as page, answering_target(page, relay) as url:
            options = ProbeOptions(target=url, output=output, protocol="sdp-post", video=True, offer=offer,
                                   video_size=(FAR_MEDIA["width"], FAR_MEDIA["height"]), fps=PROBE_FPS,
                                   duration=seconds + 15, stats_interval=1.0, timeouts=PhaseTimeouts(media=15))
            probe = ProbeSession(options)
            run = asyncio.create_task(probe.run())
            while probe.status.phase != "running" and not run.done():
                await asyncio.sleep(0.1)
            if run.done():
                raise RuntimeError(f"the probe ended before media: {(await run).diagnosis}")

            def keep_feedback(direction: str, kind: str, data: bytes, t: float) -> None:
                if direction == RECEIVED and kind == RTCP and len(result.feedback) < 50 and any(iter_feedback(data)):
                    result.feedback.append(data)
            for transport in peer_connection_transports(probe._pc):
                PacketTap.attach(transport, lambda: 0.0, keep_feedback)
            await sample(page, result, seconds, until)
            if probe._collector is not None:
                reports = probe._collector.snapshot(0.0)
                result.probe_pair = next((r for r in reports if r["type"] == "candidate-pair"), {})
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await run
    finally:
        await relay.close()
    return result


async def chromium_session(chromium: Chromium, loss: float, seconds: float, seed: int) -> Session:
    """Page A offers (and sends the far end's small stream), page B answers and is the measured sender."""
    result = Session("chromium", loss)
    relay = await RelayProcess(loss, seed).start()
    try:
        async with chromium.open_page() as offerer, chromium.open_page() as answerer:
            offer = await offerer.evaluate("(o) => rtcprobe.createOffer(o)", {**SENDER_MEDIA, "datachannel": "rtcprobe"},
                                           timeout=30)
            answer = await answerer.evaluate("([offer, o]) => rtcprobe.createAnswer(offer, o)",
                                             [await relay.rewrite_offer(offer), SENDER_MEDIA], timeout=30)
            await offerer.evaluate("(sdp) => rtcprobe.applyAnswer(sdp)", await relay.rewrite_answer(answer))
            await answerer.evaluate("(ms) => rtcprobe.waitConnected(ms)", 15000, timeout=20)
            await sample(answerer, result, seconds)
    finally:
        await relay.close()
    return result


def ratio(probe: Session, peer: Session) -> float:
    return probe.settled / peer.settled if peer.settled else 0.0


async def bench(losses: list[float], runs: int, seconds: float) -> list[tuple[float, int, Session, Session]]:
    rows = []
    with Chromium() as chromium, tempfile.TemporaryDirectory() as tmp:
        for loss in losses:
            for run in range(runs):
                seed = 100 + run
                probe = await probe_session(chromium, loss, seconds, seed, Path(tmp) / f"bwe-{loss:g}-{run}.jsonl")
                peer = await chromium_session(chromium, loss, seconds, seed)
                rows.append((loss, run, probe, peer))
                print(f"loss {loss:g} % run {run}: Chromium -> probe {probe.settled / 1e6:.2f} Mbit/s, "
                      f"Chromium -> Chromium {peer.settled / 1e6:.2f} Mbit/s, ratio {ratio(probe, peer):.2f}",
                      file=sys.stderr)
    return rows


def medians(rows: list[tuple[float, int, Session, Session]], loss: float) -> tuple[float, float]:
    mine = [r for r in rows if r[0] == loss]
    return (statistics.median(p.settled for _, _, p, _ in mine), statistics.median(c.settled for _, _, _, c in mine))


def table(rows: list[tuple[float, int, Session, Session]]) -> str:
    """Per loss: the medians over runs, their ratio (the figure), and the per-run ratios (the spread:
    each side's initial bandwidth probe succeeds or not on a busy machine, Chromium's own too)."""
    lines = ["| loss | runs | Chromium→probe, median (Mbit/s) | Chromium→Chromium, median (Mbit/s) | ratio of medians "
             "| per-run ratios |", "|---:|---:|---:|---:|---:|---|"]
    for loss in sorted({r[0] for r in rows}):
        probe, peer = medians(rows, loss)
        runs = [f"{ratio(p, c):.2f}" for lo, _, p, c in rows if lo == loss]
        lines.append(f"| {loss:g} % | {len(runs)} | {probe / 1e6:.2f} | {peer / 1e6:.2f} | "
                     f"**{probe / peer if peer else 0:.2f}** | {', '.join(runs)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--relay-child"]:
        asyncio.run(relay_child(float(argv[1]), int(argv[2])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--loss", type=float, nargs="+", default=[0.0, 10.0])
    args = parser.parse_args(argv)
    rows = asyncio.run(bench(args.loss, args.runs, args.seconds))
    print(table(rows))
    figures = {loss: medians(rows, loss) for loss in sorted({r[0] for r in rows})}
    worst = min(p / c if c else 0 for p, c in figures.values())
    print(f"target >= 0.8x (ratio of medians): {'met' if worst >= 0.8 else 'NOT met'} (lowest {worst:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

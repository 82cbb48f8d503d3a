"""Headless Chromium as the far end of a probe session: the harness of the truth tests
(tests/test_truth_chromium.py, tests/test_truth_impair.py) and of `bench/truth.py`.

Chromium answers the probe's offer (sdp-post through an aiohttp route that hands the offer to the
page) and sends its fake camera (VP8 with RTX) and microphone back. Every datagram crosses
`tests/relay.py` (seeded RTP loss of its own, and `freeze` for a quiet point) and, when `impair`
is given, the probe's own impairment (`capture --impair`, rtcprobe.net) between aioice and its
sockets. `SeamLog` records what crossed that impairment, on the event loop's clock: per RTP
datagram its SSRC, sequence number, RTP timestamp, when it entered and when each copy left (none:
dropped), per RTCP datagram its times. That is the wire's own timing, what jitter and round-trip
references are computed from (tests/truth_metrics.py); the impairment's `summary` event holds its
own count of the drops.

Ending at a quiet point, so that nothing is in flight when the two ends are compared: the relay
stops forwarding RTP, the probe's senders stop (so what the probe counted as sent is what reached
the relay), then once NACK retries are over the relay stops forwarding RTCP too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from browser import BrowserPage, Chromium, get_stats, sdp_post_endpoint, stats_of_type
from relay import FROM_ANSWERER, RTCP, RTP, Relay

from rtcprobe.capture import Capture, load
from rtcprobe.net.impair import RTCP as WIRE_RTCP
from rtcprobe.net.impair import RTP as WIRE_RTP
from rtcprobe.net.impair import wire_class
from rtcprobe.net.seam import Network
from rtcprobe.net.spec import DIRECTIONS
from rtcprobe.probe.options import PhaseTimeouts, ProbeOptions
from rtcprobe.probe.session import ProbeSession

SEED = 9
MEDIA_SECONDS = 6.0  # media flowing through the relay before the quiet point
SETTLE_SECONDS = 1.5  # after RTP stops: late packets land, NACK retries (10 at most) run out
#: Chromium's fake devices, small: the probe decodes the video in Python on a shared machine.
ANSWER_MEDIA = {"audio": True, "video": True, "width": 320, "height": 240, "frameRate": None}


@dataclass
class SeamDatagram:
    """One datagram offered to one direction of the impairment. SRTP and SRTCP leave the RTP
    header and the first RTCP header (type, FMT, sender SSRC) readable (RFC 3711 §3.1, §3.4)."""

    ssrc: int  # RTP: the SSRC; RTCP: the first packet's sender SSRC
    seq: int  # RTP sequence number as on the wire (16 bits)
    ts: int  # RTP timestamp
    t_in: float  # event-loop time it entered the impairment
    t_out: list[float] = field(default_factory=list)  # when each copy left; empty: dropped (or lost at close)
    pt: int = 0  # RTCP: the first packet's type (200 SR, 201 RR, 205 RTPFB...)
    fmt: int = 0  # RTCP: its count/FMT field (1: NACK in RTPFB)


@dataclass
class SeamLog:
    """Every RTP and RTCP datagram that crossed the impairment, per direction (up: the probe sends)."""

    rtp: dict[str, dict[int, list[SeamDatagram]]] = field(default_factory=lambda: {d: {} for d in DIRECTIONS})
    rtcp: dict[str, list[SeamDatagram]] = field(default_factory=lambda: {d: [] for d in DIRECTIONS})
    clock_offset: float = 0.0  # event-loop time minus capture time (both time.monotonic based)

    def attach(self, network: Network) -> None:
        """Observe `network.carry` on this instance: each datagram's times, nothing else changed."""
        carry, loop = network.carry, asyncio.get_running_loop()

        def observed(direction: str, data: bytes, deliver: Callable[[], Any]) -> None:
            kind = wire_class(data)
            if kind not in (WIRE_RTP, WIRE_RTCP) or len(data) < 12:
                carry(direction, data, deliver)
                return
            if kind == WIRE_RTP:
                record = SeamDatagram(int.from_bytes(data[8:12], "big"), int.from_bytes(data[2:4], "big"),
                                      int.from_bytes(data[4:8], "big"), loop.time())
                self.rtp[direction].setdefault(record.ssrc, []).append(record)
            else:
                record = SeamDatagram(int.from_bytes(data[4:8], "big"), 0, 0, loop.time(), pt=data[1],
                                      fmt=data[0] & 0x1F)
                self.rtcp[direction].append(record)

            def deliver_and_log() -> Any:
                ok = deliver()
                if ok is not False:
                    record.t_out.append(loop.time())
                return ok

            carry(direction, data, deliver_and_log)

        network.carry = observed  # type: ignore[method-assign]


@dataclass
class Truth:
    """One session: the probe's capture, the relay's counts, Chromium's final getStats and, when
    impaired, what crossed the impairment."""

    loss: float  # the relay's own RTP loss, percent
    capture: Capture
    relay: Relay
    chromium: list[dict[str, Any]]
    impair: str | None = None
    seam: SeamLog | None = None
    #: RTCP datagrams from Chromium the relay held after its RTCP freeze, before getStats: feedback
    #: Chromium counted as sent that never reached the probe (NACK retries outlast the settle time
    #: when the round trip is long).
    held_rtcp: int = 0
    #: Frames aiortc's receivers handed on (decoded), per kind: what the probe made of the media.
    frames: dict[str, int] = field(default_factory=dict)

    def probe(self, type_: str, kind: str) -> dict[str, Any]:
        [report] = [r for r in self.capture.last_stats() if r["type"] == type_ and r.get("kind") == kind]
        return report

    def browser(self, type_: str, kind: str | None = None) -> dict[str, Any]:
        [report] = stats_of_type(self.chromium, type_, kind)
        return report

    def impairment_summary(self) -> dict[str, Any]:
        [summary] = [e for e in self.capture.of("impairment") if e.get("action") == "summary"]
        return summary


@contextlib.asynccontextmanager
async def answering_target(page: BrowserPage, relay: Relay,
                           media: dict[str, Any] | None = None) -> AsyncIterator[str]:
    """An sdp-post endpoint whose answerer is the Chromium page, with the relay in between."""
    async def answer(offer: str) -> str:
        sdp = await page.evaluate("([offer, o]) => rtcprobe.createAnswer(offer, o)",
                                  [relay.rewrite_offer(offer), media or ANSWER_MEDIA], timeout=30)
        return relay.rewrite_answer(sdp)

    async with sdp_post_endpoint(answer) as url:
        yield url


async def until(condition: Callable[[], bool], what: str, timeout: float = 20.0, step: float = 0.05) -> None:
    """Wait for a condition of the session (the limit only ends a hang)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise TimeoutError(f"gave up waiting after {timeout:g} s for {what}")
        await asyncio.sleep(step)


async def run_session(chromium: Chromium, output: Path, *, loss: float = 0.0, impair: str | None = None,
                      seed: int = SEED, media_seconds: float = MEDIA_SECONDS,
                      settle_seconds: float = SETTLE_SECONDS, offer: str = "chrome",
                      media: dict[str, Any] | None = None) -> Truth:
    """One probe session against Chromium: the relay drops `loss` % of RTP, the probe's own
    impairment applies `impair` (a SPEC) with `seed`; `media`: Chromium's fake devices
    (ANSWER_MEDIA). Ends at the quiet point.

    The probe offers as `capture` does by default (`chrome`): RED and ULPFEC are offered, so
    Chromium sends its VP8 inside RED (RFC 2198) with ULPFEC, which rtcprobe.probe.red unwraps."""
    relay = await Relay(loss_percent=loss, seed=seed).start()
    browser_stats: list[dict[str, Any]] = []
    seam = SeamLog() if impair else None
    held_rtcp = 0
    try:
        async with chromium.open_page() as page, answering_target(page, relay, media) as url:
            options = ProbeOptions(target=url, output=output, protocol="sdp-post", video=True,
                                   video_size=(320, 240), fps=15,
                                   duration=media_seconds + settle_seconds + 1.0 + 2 * _delay_bound(impair),
                                   stats_interval=0.5, timeouts=PhaseTimeouts(media=10),
                                   impair=[impair] if impair else [], seed=seed, offer=offer)
            session = ProbeSession(options)
            frames = _count_frames(session)
            run = asyncio.create_task(session.run())
            if seam is not None:  # the network exists before any RTP can flow (set up with the pc)
                await until(lambda: session._impairment is not None or run.done(), "the impairment", step=0.002)
                if session._impairment is not None:
                    seam.attach(session._impairment.network)
                    seam.clock_offset = asyncio.get_running_loop().time() - session.writer.now()
            await until(lambda: session.status.phase == "running" or run.done(), "the probe's media")
            if not run.done():
                await asyncio.sleep(media_seconds)
                relay.freeze(RTP)
                for sender in session._pc.getSenders():  # then what it counted as sent reached the relay
                    await sender.stop()
                await asyncio.sleep(settle_seconds + 2 * _delay_bound(impair))
                relay.freeze(RTCP)
                before = relay.datagrams[FROM_ANSWERER].get(RTCP, 0)
                await asyncio.sleep(0.2 + 2 * _delay_bound(impair))  # RTCP already past the relay lands
                browser_stats = await get_stats(page)
                held_rtcp = relay.datagrams[FROM_ANSWERER].get(RTCP, 0) - before
            result = await run
    finally:
        relay.close()
    capture = load(result.path)
    if not capture.ok:
        raise RuntimeError(f"the probe's session failed: {capture.diagnosis}")
    return Truth(loss, capture, relay, browser_stats, impair, seam, held_rtcp, frames)


def _count_frames(session: ProbeSession) -> dict[str, int]:
    """Count the frames aiortc's decoders hand to each remote track the session takes (its decoder
    thread puts every decoded frame on the track's queue), on a track listener of our own next to
    the session's (whose single consumer, rtcprobe.probe.media_quality, reads them)."""
    frames: dict[str, int] = {}
    add_media = session._add_media

    def counted(track: Any) -> None:
        queue = track._queue
        put = queue.put

        async def put_counted(frame: Any) -> None:
            if frame is not None:  # None: the decoder stopped
                frames[track.kind] = frames.get(track.kind, 0) + 1
            await put(frame)

        queue.put = put_counted

    def add_media_counted(pc: Any) -> None:
        add_media(pc)
        pc.on("track", counted)  # after the session's listener, before any frame is decoded

    session._add_media = add_media_counted  # type: ignore[method-assign]
    return frames


def _delay_bound(impair: str | None) -> float:
    """The most the impairment holds a datagram (delay + jitter), seconds: what a quiet point waits."""
    if not impair:
        return 0.0
    from rtcprobe.net.spec import parse_spec

    spec, _ = parse_spec(impair)
    return max(c.delay + c.jitter for c in (spec.up, spec.down))

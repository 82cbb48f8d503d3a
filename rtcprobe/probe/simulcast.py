"""`capture --simulcast N`: 2–3 RID layers on the video m-line, as a browser sends simulcast.

aiortc cannot send simulcast. A browser (Chrome's unified plan) offers it on one m-line:
`a=rid:<rid> send` per encoding and `a=simulcast:send q;h;f`, the rtp-stream-id and
repaired-rtp-stream-id extmaps, and NO `a=ssrc` lines: each layer's packets are identified by the
RID header extension (RFC 8851/8852/8853). The probe does the same, least invasively:

- `shape_offer` adds those lines to the (already browser-shaped) offer's first video m-line;
- `accepted_layers` reads the answer: a layer is sent when the answer lists it in
  `a=simulcast:recv` (not paused with `~`) with `a=rid:<rid> recv`, and answered the RID extmap;
  fewer than two: one layer (aiortc's own sender, no RID), with the reason recorded;
- `SimulcastLayers` keeps aiortc's transceiver sender as the full-size layer ("f") and runs one
  hidden `RTCRtpSender` per lower layer on the same DTLS transport (its own VP8 encoder,
  SSRC, RTX SSRC, sequence numbers and RTCP SR; NACK and PLI reach it by SSRC through aiortc's
  own RTCP routing), fed by the same test pattern through a `MediaRelay`, scaled down by 2 or 4
  (scaleResolutionDownBy). Its packets are SRTP-protected by the same transport;
- `RidStamper` (an interceptor, taps.py) writes the RID extension on each layer's media packets
  and the repaired-RID on its RTX packets, under the ids the answer negotiated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import av
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender
from aiortc.contrib.media import MediaRelay
from aiortc.rtcrtpparameters import RTCRtcpParameters, RTCRtpSendParameters
from aiortc.rtp import pack_header_extensions

from ..sdp.lines import join_section_lines, section_lines
from .taps import RTP, Clock, Interceptor, PacketTap
from .twcc_codec import _EXTENSION, rtp_extensions

logger = logging.getLogger(__name__)

SIMULCAST = "simulcast"  # event: offered and sent layers, their SSRCs and sizes, or why one layer
RID_URI = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
RRID_URI = "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#: layers as (rid, scaleResolutionDownBy), lowest first, as Chrome lists its encodings
LAYERS: dict[int, tuple[tuple[str, int], ...]] = {2: (("h", 2), ("f", 1)), 3: (("q", 4), ("h", 2), ("f", 1))}
START_POLL_S = 0.05


# -- the offer ------------------------------------------------------------------------------------
def shape_offer(sdp: str, layers: int) -> tuple[str, list[str]]:
    """`sdp` with simulcast on its first video m-line, and notes (empty when nothing to do)."""
    rids = [rid for rid, _ in LAYERS[layers]]
    session, sections = section_lines(sdp)
    index = next((i for i, s in enumerate(sections) if s[0].startswith("m=video ")), None)
    if index is None:
        return sdp, ["--simulcast: the offer has no video m-line"]
    used = {int(line[9:].split()[0].split("/")[0]) for s in sections for line in s if line.startswith("a=extmap:")}
    lines = [line for line in sections[index] if not line.startswith(("a=ssrc:", "a=ssrc-group:"))]
    have = {line.split()[1] for line in lines if line.startswith("a=extmap:")}
    free = (i for i in range(1, 15) if i not in used)
    extmaps = [f"a=extmap:{next(free)} {uri}" for uri in (RID_URI, RRID_URI) if uri not in have]
    last_extmap = max((i for i, line in enumerate(lines) if line.startswith("a=extmap:")), default=len(lines) - 1)
    lines[last_extmap + 1:last_extmap + 1] = extmaps
    lines += [f"a=rid:{rid} send" for rid in rids] + [f"a=simulcast:send {';'.join(rids)}"]
    sections[index] = lines
    return join_section_lines(session, sections), []


# -- the answer -----------------------------------------------------------------------------------
@dataclass
class Acceptance:
    mid: str | None  # the video m-line's
    rids: list[str]  # the layers to send, lowest first; [] means one layer without RID
    rid_id: int | None = None
    rrid_id: int | None = None
    why_one: str | None = None  # why a single layer is sent


def accepted_layers(answer_sdp: str, layers: int) -> Acceptance:
    """Which of the offered layers the answer accepts (see the module docstring)."""
    offered = [rid for rid, _ in LAYERS[layers]]
    _, sections = section_lines(answer_sdp)
    video = next((s for s in sections if s[0].startswith("m=video ")), None)
    if video is None or video[0].split()[1] == "0":
        return Acceptance(None, [], why_one="the answer has no video m-line accepted")
    mid = next((line[6:].strip() for line in video if line.startswith("a=mid:")), None)
    ids = {line.split()[1]: int(line[9:].split()[0].split("/")[0]) for line in video if line.startswith("a=extmap:")}
    result = Acceptance(mid, [], ids.get(RID_URI), ids.get(RRID_URI))
    recv = simulcast_lists(video).get("recv")
    if recv is None:
        result.why_one = "the answer has no a=simulcast:recv line: simulcast declined, one layer sent"
        return result
    rid_recv = {line[6:].split()[0] for line in video if line.startswith("a=rid:") and " recv" in line}
    paused = [rid for rid, is_paused in recv if is_paused]
    accepted = [r for r in offered if (r, False) in recv and r in rid_recv]
    if result.rid_id is None:
        result.why_one = "the answer accepted simulcast but not the rtp-stream-id extension: one layer sent"
    elif len(accepted) < 2:
        result.why_one = (f"the answer accepts {len(accepted)} of the offered layers ({';'.join(offered)})"
                          + (f", paused {';'.join(paused)}" if paused else "") + ": one layer sent")
    else:
        result.rids = accepted
    return result


def simulcast_lists(section: list[str]) -> dict[str, list[tuple[str, bool]]]:
    """{"send"|"recv": [(rid, paused)]} from a section's a=simulcast line: RFC 8853
    (`a=simulcast:send 1,~4;2;3 recv c`) and the draft syntax Firefox once wrote
    (`a=simulcast: send rid=1,4;2;3 paused=4 recv rid=c`). Of alternatives (`,`) the first counts."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for line in section:
        if not line.startswith("a=simulcast:"):
            continue
        words = line[len("a=simulcast:"):].split()
        paused = {rid for w in words if w.startswith("paused=") for rid in w[7:].split(",")}
        words = [w for w in words if not w.startswith("paused=")]
        for direction, listed in zip(words[::2], words[1::2], strict=False):
            if direction in ("send", "recv"):
                firsts = [alt.split(",")[0] for alt in listed.removeprefix("rid=").split(";")]
                out[direction] = [(r.lstrip("~"), r.startswith("~") or r in paused) for r in firsts]
    return out


# -- the wire -------------------------------------------------------------------------------------
def set_extension(data: bytes, ext_id: int, value: bytes) -> bytes:
    """RTP packet `data` with header extension `ext_id` set to `value` (replaced if present)."""
    start, end, elements = rtp_extensions(data)
    elements = [(x_id, v) for x_id, v in elements if x_id != ext_id] + [(ext_id, value)]
    profile, block = pack_header_extensions(elements)
    block += b"\x00" * (-len(block) % 4)
    return bytes([data[0] | 0x10]) + data[1:start] + _EXTENSION.pack(profile, len(block) // 4) + block + data[end:]


class RidStamper(Interceptor):
    """Writes RID on each layer's media packets and repaired-RID on its RTX packets."""

    def __init__(self) -> None:
        self.by_ssrc: dict[int, tuple[int, bytes]] = {}  # ssrc -> (extension id, rid)
        self.stamped = 0

    def add(self, ssrc: int, rtx_ssrc: int, rid: str, rid_id: int, rrid_id: int | None) -> None:
        self.by_ssrc[ssrc] = (rid_id, rid.encode())
        if rrid_id is not None:
            self.by_ssrc[rtx_ssrc] = (rrid_id, rid.encode())

    def outgoing(self, kind: str, data: bytes, t: float) -> bytes | None:
        if kind != RTP:
            return data
        found = self.by_ssrc.get(int.from_bytes(data[8:12], "big"))
        if found is None:
            return data
        self.stamped += 1
        return set_extension(data, *found)


class ScaledTrack(MediaStreamTrack):
    """Another consumer's frames at 1/`scale` of their size, as scaleResolutionDownBy does."""

    kind = "video"

    def __init__(self, source: MediaStreamTrack, scale: int) -> None:
        super().__init__()
        self.source, self.scale = source, scale

    async def recv(self) -> av.VideoFrame:
        frame = await self.source.recv()
        out = frame.reformat(width=max(2, frame.width // self.scale) & ~1,
                             height=max(2, frame.height // self.scale) & ~1)
        out.pts, out.time_base = frame.pts, frame.time_base
        return out


@dataclass
class SimulcastLayers:
    """The layers on one video transceiver; `fields()` is what the `simulcast` event records."""

    offered: list[str]
    acceptance: Acceptance
    size: tuple[int, int]
    senders: dict[str, RTCRtpSender] = field(default_factory=dict)  # rid -> sender (the top one is aiortc's)
    scales: dict[str, int] = field(default_factory=dict)
    stamper: RidStamper | None = None
    _task: asyncio.Task[None] | None = None

    def fields(self) -> dict[str, Any]:
        width, height = self.size
        layers = [{"rid": rid, "ssrc": s._ssrc, "rtx_ssrc": s._rtx_ssrc, "scale_down_by": self.scales[rid],
                   "width": max(2, width // self.scales[rid]) & ~1, "height": max(2, height // self.scales[rid]) & ~1}
                  for rid, s in self.senders.items()]
        return {"offered": self.offered, "sent": [layer["rid"] for layer in layers], "layers": layers,
                "mid": self.acceptance.mid, "rid_id": self.acceptance.rid_id,
                "repaired_rid_id": self.acceptance.rrid_id, "why_one_layer": self.acceptance.why_one}

    def rid_of(self, ssrc: int) -> dict[str, Any]:
        """outbound-rtp fields for `ssrc` (a StatsCollector outbound field source)."""
        rid = next((r for r, s in self.senders.items() if s._ssrc == ssrc), None)
        return {"rid": rid} if rid is not None else {}

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        for rid, sender in self.senders.items():
            if rid != self.offered[-1]:
                with contextlib.suppress(Exception):
                    await sender.stop()


def enable_simulcast(pc: RTCPeerConnection, answer_sdp: str, layers: int, clock: Clock, *,
                     collector: Any = None) -> SimulcastLayers:
    """Run the accepted layers on `pc`'s video transceiver (after setRemoteDescription, before
    the transport connects)."""
    offered = [rid for rid, _ in LAYERS[layers]]
    scales = dict(LAYERS[layers])
    acceptance = accepted_layers(answer_sdp, layers)
    transceiver = next((t for t in pc.getTransceivers() if t.kind == "video" and t.sender.track is not None), None)
    if transceiver is None:
        acceptance.rids, acceptance.why_one = [], "the probe sends no video track: no layers"
        return SimulcastLayers(offered, acceptance, (0, 0), scales=scales)
    main = transceiver.sender
    source = main.track
    size = getattr(source, "size", (0, 0))
    result = SimulcastLayers(offered, acceptance, size, scales=scales)
    if not acceptance.rids:
        return result
    relay = MediaRelay()
    main.replaceTrack(relay.subscribe(source, buffered=False))
    top = offered[-1]
    stamper = result.stamper = RidStamper()
    for rid in acceptance.rids:
        sender = main if rid == top else RTCRtpSender(ScaledTrack(relay.subscribe(source, buffered=False),
                                                                  scales[rid]), main.transport)
        result.senders[rid] = sender
        assert acceptance.rid_id is not None
        stamper.add(sender._ssrc, sender._rtx_ssrc, rid, acceptance.rid_id, acceptance.rrid_id)
        if collector is not None and sender is not main:  # the stats learn the hidden SSRCs
            collector.media.ssrc_kinds[sender._ssrc] = collector.media.ssrc_kinds[sender._rtx_ssrc] = "video"
            collector.media.ssrc_mids[sender._ssrc] = transceiver.mid or ""
            collector.media.rtx_ssrcs[sender._rtx_ssrc] = sender._ssrc
    PacketTap.attach(main.transport, clock).add_interceptor(stamper)
    if collector is not None and hasattr(collector, "add_outbound_fields"):
        collector.add_outbound_fields(result.rid_of)
    result._task = asyncio.ensure_future(_start_when_sending(pc, transceiver, result))
    return result


async def _start_when_sending(pc: RTCPeerConnection, transceiver: Any, layers: SimulcastLayers) -> None:
    """Start the hidden senders with the main sender's parameters once aiortc has started it."""
    main = transceiver.sender
    while not getattr(main, "_RTCRtpSender__started", False):
        if pc.connectionState in ("closed", "failed"):
            return
        await asyncio.sleep(START_POLL_S)
    base = pc._RTCPeerConnection__localRtp(transceiver)  # type: ignore[attr-defined]
    for sender in layers.senders.values():
        if sender is main:
            continue
        params = RTCRtpSendParameters(codecs=base.codecs, headerExtensions=base.headerExtensions, muxId=base.muxId,
                                      rtcp=RTCRtcpParameters(cname=base.rtcp.cname, ssrc=sender._ssrc, mux=True))
        await sender.send(params)

    @pc.on("connectionstatechange")
    async def stop_layers() -> None:
        if pc.connectionState in ("closed", "failed"):
            await layers.stop()

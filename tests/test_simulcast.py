"""`capture --simulcast`: the offer as Chrome writes simulcast, the answer's acceptance, and real
layers end to end: an aiortc receiver answering with `a=simulcast:recv` (as an SFU does) counts
each layer's packets by their RID extension and decodes each layer's VP8 keyframe size."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from browser import BrowserPage

from rtcprobe.capture import Capture, load
from rtcprobe.cli import main
from rtcprobe.probe import media
from rtcprobe.probe.offer_shape import adapt_answer
from rtcprobe.probe.offer_shape import shape_offer as shape_browser
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.probe.simulcast import (
    RID_URI,
    RRID_URI,
    accepted_layers,
    enable_simulcast,
    set_extension,
    shape_offer,
    simulcast_lists,
)
from rtcprobe.probe.stats import StatsCollector
from rtcprobe.probe.taps import RECEIVED, RTCP, PacketTap, monotonic_clock
from rtcprobe.probe.twcc_codec import URI as TWCC_URI
from rtcprobe.probe.twcc_codec import read_sequence, rtp_extensions
from rtcprobe.sdp import parse_description

SIZE = (320, 240)
REALWORLD = Path(__file__).parent / "data" / "realworld" / "sdp"


def _video_section(sdp: str) -> list[str]:
    lines = sdp.replace("\r\n", "\n").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("m=video"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("m=")), len(lines))
    return [line for line in lines[start:end] if line]


def _ext_ids(sdp: str) -> dict[str, int]:
    return {line.split()[1]: int(line[9:].split()[0]) for line in _video_section(sdp) if line.startswith("a=extmap:")}


async def _probe_offer(layers: int) -> tuple[RTCPeerConnection, str]:
    pc = RTCPeerConnection()
    pc.addTransceiver(media.video_source(size=SIZE, fps=15), direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    offer, notes = shape_offer(shape_browser("chrome", pc.localDescription.sdp).sdp, layers)
    assert notes == []
    return pc, offer


def _accepting(answer: str, offer: str, rids: list[str]) -> str:
    """The receiver's answer with simulcast accepted, as an SFU answers (rid/rrid extmaps echoed)."""
    ids = _ext_ids(offer)
    lines = answer.replace("\r\n", "\n").rstrip("\n").split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("m=video"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("m=")), len(lines))
    extra = [f"a=extmap:{ids[uri]} {uri}" for uri in (RID_URI, RRID_URI, TWCC_URI)]
    extra += [f"a=rid:{r} recv" for r in rids] + [f"a=simulcast:recv {';'.join(rids)}"]
    return "\r\n".join(lines[:end] + extra + lines[end:]) + "\r\n"


def test_offer_is_shaped_as_chrome_writes_simulcast() -> None:
    async def run() -> str:
        pc, offer = await _probe_offer(3)
        await pc.close()
        return offer
    offer = asyncio.run(run())
    video = _video_section(offer)
    assert [line for line in video if line.startswith("a=rid:")] == ["a=rid:q send", "a=rid:h send", "a=rid:f send"]
    assert video[-1] == "a=simulcast:send q;h;f"
    assert not [line for line in video if line.startswith(("a=ssrc:", "a=ssrc-group:"))]  # Chrome lists none
    ids = _ext_ids(offer)
    assert RID_URI in ids and RRID_URI in ids and ids[RID_URI] != ids[RRID_URI]
    parse_description(offer, "offer")  # still a valid description


def test_answer_acceptance_and_why_one_layer() -> None:
    offer = asyncio.run(_offer_text())
    plain = offer.replace("a=simulcast:send q;h;f", "").replace(" send\r\n", " recv\r\n")
    declined = accepted_layers(plain, 3)
    assert declined.rids == [] and "no a=simulcast:recv" in (declined.why_one or "")
    full = accepted_layers(offer.replace("a=simulcast:send", "a=simulcast:recv").replace(" send\r\n", " recv\r\n"), 3)
    assert full.rids == ["q", "h", "f"] and full.why_one is None and full.rid_id == _ext_ids(offer)[RID_URI]
    paused = offer.replace("a=simulcast:send q;h;f", "a=simulcast:recv ~q;h;~f").replace(" send\r\n", " recv\r\n")
    one = accepted_layers(paused, 3)
    assert one.rids == [] and "accepts 1 of the offered layers" in (one.why_one or "") and "paused q;f" in (one.why_one or "")
    two = accepted_layers(paused.replace("~f", "f"), 3)
    assert two.rids == ["h", "f"]


async def _offer_text() -> str:
    pc, offer = await _probe_offer(3)
    await pc.close()
    return offer


def test_simulcast_lines_of_real_world_sdp_in_both_syntaxes() -> None:
    """sdp-transform's fixture has both the RFC 8853 line and the draft one Firefox once wrote."""
    section = _video_section((REALWORLD / "sdptransform-simulcast.sdp").read_text())
    rfc, draft = [line for line in section if line.startswith("a=simulcast:")]
    assert simulcast_lists([rfc]) == {"send": [("1", False), ("2", False), ("3", False)], "recv": [("c", False)]}
    assert simulcast_lists([draft]) == simulcast_lists([rfc])


def test_offer_layout_matches_a_real_chrome_simulcast_offer() -> None:
    """pion's recorded Chrome offer: the rid lines, then a=simulcast, end the m-section; no a=ssrc."""
    chrome = _video_section((REALWORLD / "pion-test-chrome-offer-simulcast-vp9-mid1-vp8-mid2.sdp").read_text())
    ours = _video_section(asyncio.run(_offer_text()))
    assert chrome[-3:] == ["a=rid:q send", "a=rid:h send", "a=simulcast:send q;h"]
    assert ours[-4:] == ["a=rid:q send", "a=rid:h send", "a=rid:f send", "a=simulcast:send q;h;f"]
    assert not [line for line in chrome + ours if line.startswith("a=ssrc")]


def test_set_extension_replaces_and_adds() -> None:
    packet = bytes([0x80, 96]) + (1).to_bytes(2, "big") + (0).to_bytes(4, "big") + (5).to_bytes(4, "big") + b"payload"
    once = set_extension(packet, 10, b"q")
    twice = set_extension(once, 10, b"h")
    assert rtp_extensions(twice)[2] == [(10, b"h")] and twice.endswith(b"payload")


def _vp8_keyframe_size(payload: bytes) -> tuple[int, int] | None:
    """Width and height of a VP8 keyframe's first packet (RFC 7741 §4.2, RFC 6386 §9.1)."""
    if not payload[0] & 0x10 or payload[0] & 0x07:  # not the start of partition 0
        return None
    i = 1
    if payload[0] & 0x80:
        x = payload[1]
        i = 2
        if x & 0x80:
            i += 2 if payload[i] & 0x80 else 1
        i += bool(x & 0x40) + bool(x & 0x30)
    frame = payload[i:]
    if frame[0] & 0x01 or frame[3:6] != b"\x9d\x01\x2a":
        return None
    return int.from_bytes(frame[6:8], "little") & 0x3FFF, int.from_bytes(frame[8:10], "little") & 0x3FFF


def test_three_layers_reach_a_receiver_with_their_rids_and_sizes() -> None:
    per_rid: Counter[str] = Counter()
    ssrcs: dict[str, set[int]] = defaultdict(set)
    sizes: dict[str, set[tuple[int, int]]] = defaultdict(set)
    sr_ssrcs: set[int] = set()

    async def run() -> tuple[dict, list]:
        probe, offer = await _probe_offer(3)
        receiver = RTCPeerConnection()
        await receiver.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await receiver.setLocalDescription(await receiver.createAnswer())
        answer = _accepting(receiver.localDescription.sdp, offer, ["q", "h", "f"])
        rid_id, rrid_id = _ext_ids(offer)[RID_URI], _ext_ids(offer)[RRID_URI]

        def on_packet(direction: str, kind: str, data: bytes, t: float) -> None:
            if direction != RECEIVED:
                return
            if kind == RTCP:
                if data[1] == 200:
                    sr_ssrcs.add(int.from_bytes(data[4:8], "big"))
                return
            start, end, elements = rtp_extensions(data)
            found = dict(elements)
            rid = found.get(rid_id)
            if rid is None:
                assert rrid_id in found or data[1] & 0x7F not in (96, 97), "a media packet without RID"
                return
            per_rid[rid.decode()] += 1
            ssrcs[rid.decode()].add(int.from_bytes(data[8:12], "big"))
            payload_start = end
            size = _vp8_keyframe_size(data[payload_start:])
            if size is not None:
                sizes[rid.decode()].add(size)

        clock = monotonic_clock()
        for transceiver in receiver.getTransceivers():
            PacketTap.attach(transceiver.receiver.transport, clock, on_packet)
        await probe.setRemoteDescription(RTCSessionDescription(adapt_answer(answer).sdp, "answer"))
        collector = StatsCollector(probe, clock)
        collector.attach_peer_connection()
        layers = enable_simulcast(probe, answer, 3, clock, collector=collector)
        for _ in range(100):
            await asyncio.sleep(0.1)
            if len(sizes) == 3 and len(sr_ssrcs) >= 3:
                break
        fields = layers.fields()
        reports = collector.snapshot(clock())
        await probe.close()
        await receiver.close()
        await asyncio.sleep(0.1)
        return fields, reports

    fields, reports = asyncio.run(run())
    assert fields["sent"] == ["q", "h", "f"] and fields["why_one_layer"] is None
    assert set(per_rid) == {"q", "h", "f"} and all(per_rid[r] > 0 for r in "qhf")
    assert all(len(ssrcs[r]) == 1 for r in "qhf") and len({next(iter(ssrcs[r])) for r in "qhf"}) == 3
    assert sizes == {"f": {(320, 240)}, "h": {(160, 120)}, "q": {(80, 60)}}
    assert {next(iter(ssrcs[r])) for r in "qhf"} <= sr_ssrcs  # each layer its own RTCP SR
    layer_ssrcs = {layer["rid"]: layer["ssrc"] for layer in fields["layers"]}
    assert layer_ssrcs == {r: next(iter(ssrcs[r])) for r in "qhf"}
    outbound = {r["ssrc"]: r for r in reports if r["type"] == "outbound-rtp" and r.get("kind") == "video"}
    assert {outbound[s].get("rid") for s in layer_ssrcs.values()} == {"q", "h", "f"}


def test_declined_simulcast_sends_one_layer_and_says_why() -> None:
    async def run() -> dict:
        probe, offer = await _probe_offer(2)
        receiver = RTCPeerConnection()
        await receiver.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await receiver.setLocalDescription(await receiver.createAnswer())
        answer = receiver.localDescription.sdp  # aiortc answers without simulcast
        await probe.setRemoteDescription(RTCSessionDescription(adapt_answer(answer).sdp, "answer"))
        layers = enable_simulcast(probe, answer, 2, monotonic_clock())
        await probe.close()
        await receiver.close()
        return layers.fields()

    fields = asyncio.run(run())
    assert fields["offered"] == ["h", "f"] and fields["sent"] == [] and fields["layers"] == []
    assert "no a=simulcast:recv" in fields["why_one_layer"]


# -- through `capture` ---------------------------------------------------------------------------
async def _whip_receiver(accept: bool, seen: Counter[str]) -> tuple[web.AppRunner, str, list[RTCPeerConnection]]:
    """A WHIP endpoint answering with aiortc; with `accept`, simulcast accepted as an SFU answers.
    Received RTP is counted by RID value in `seen`."""
    peers: list[RTCPeerConnection] = []

    async def post(request: web.Request) -> web.Response:
        offer = await request.text()
        pc = RTCPeerConnection()
        peers.append(pc)
        await pc.setRemoteDescription(RTCSessionDescription(offer, "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        rid_id, twcc_id = _ext_ids(offer).get(RID_URI), _ext_ids(offer)[TWCC_URI]

        def count(direction: str, kind: str, data: bytes, t: float) -> None:
            if kind != RTCP and rid_id is not None:
                rid = dict(rtp_extensions(data)[2]).get(rid_id)
                if rid is not None:
                    seen[rid.decode()] += 1
                    # every layer's packets carry the transport-wide sequence number too
                    seen["transport-cc"] += read_sequence(data, twcc_id) is not None
        for transceiver in pc.getTransceivers():
            PacketTap.attach(transceiver.receiver.transport, monotonic_clock(), count)
        answer = pc.localDescription.sdp
        answer = _accepting(answer, offer, ["q", "h", "f"]) if accept else answer
        return web.Response(status=201, text=answer, content_type="application/sdp",
                            headers={"Location": "/whip/session"})

    async def delete(request: web.Request) -> web.Response:
        return web.Response(status=200)

    app = web.Application()
    app.add_routes([web.post("/whip", post), web.delete("/whip/session", delete)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/whip", peers


async def _capture_simulcast(tmp_path: Path, accept: bool) -> tuple[Capture, Counter[str], list[str]]:
    seen: Counter[str] = Counter()
    runner, url, peers = await _whip_receiver(accept, seen)
    try:
        opts = ProbeOptions(target=url, output=tmp_path / "simulcast.jsonl", protocol="whip", video=True,
                            video_size=SIZE, fps=10, duration=2.0, stats_interval=0.5, simulcast=3)
        result = await ProbeSession(opts).run()
        recorded = load(result.path)
    finally:
        for pc in peers:
            await pc.close()
        await runner.cleanup()
    return recorded, seen, result.warnings


async def test_capture_sends_three_layers_when_the_answer_accepts_them(tmp_path: Path) -> None:
    recorded, seen, warnings = await _capture_simulcast(tmp_path, accept=True)
    assert not [w for w in warnings if "simulcast" in w]
    event = next(e for e in recorded.events if e["event"] == "simulcast")
    assert event["sent"] == ["q", "h", "f"] and event["why_one_layer"] is None
    assert [(la["rid"], la["width"], la["height"]) for la in event["layers"]] == [("q", 80, 60), ("h", 160, 120),
                                                                                  ("f", 320, 240)]
    assert set(seen) == {"q", "h", "f", "transport-cc"}  # each layer's packets reached the far end with their RID
    assert seen["transport-cc"] == seen["q"] + seen["h"] + seen["f"]
    offer = next(e["sdp"] for e in recorded.events if e["event"] == "sdp" and e["role"] == "local")
    assert "a=simulcast:send q;h;f" in offer
    last = [e for e in recorded.events if e["event"] == "stats"][-1]
    rids = {r.get("rid") for r in last["reports"] if r["type"] == "outbound-rtp" and r.get("kind") == "video"}
    assert rids == {"q", "h", "f"}


async def test_capture_records_why_one_layer_when_the_answer_declines(tmp_path: Path) -> None:
    recorded, seen, warnings = await _capture_simulcast(tmp_path, accept=False)
    assert [w for w in warnings if w.startswith("--simulcast 3: the answer has no a=simulcast:recv line")]
    event = next(e for e in recorded.events if e["event"] == "simulcast")
    assert event["sent"] == [] and "no a=simulcast:recv" in event["why_one_layer"]
    assert not seen  # the one layer carries no RID


async def test_chromium_answering_declines_simulcast_recv_so_one_layer(page: BrowserPage) -> None:
    """Chromium as the answerer does not accept receiving simulcast (its answer has no
    a=simulcast:recv, no a=rid and no RID extmap): the probe then sends one layer and says why."""
    offer = await _offer_text()
    answer = await page.evaluate("""async (sdp) => {
        const pc = new RTCPeerConnection();
        await pc.setRemoteDescription({type: 'offer', sdp});
        const answer = await pc.createAnswer();
        pc.close();
        return answer.sdp; }""", offer)
    video = _video_section(answer)
    assert not [line for line in video if line.startswith(("a=simulcast:", "a=rid:"))]
    acceptance = accepted_layers(answer, 3)
    assert acceptance.rids == [] and "no a=simulcast:recv" in (acceptance.why_one or "")


@pytest.mark.parametrize(("argv", "word"), [
    (["capture", "http://127.0.0.1:9/whip", "--simulcast", "3"], "add --video"),
    (["capture", "http://127.0.0.1:9/whip", "--video", "--simulcast", "4"], "--simulcast"),
])
def test_simulcast_usage_errors_are_one_line(argv: list[str], word: str, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and word in err and "Traceback" not in err

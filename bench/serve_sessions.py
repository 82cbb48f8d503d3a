"""What a session costs `rtcprobe serve`: resident memory and file descriptors of the target process
as it holds more and more sessions, for the README's `--max-sessions` ceiling.

    .venv/bin/python bench/serve_sessions.py [--steps 0,50,100,200] [--connected 20] [--json OUT]

The target is `rtcprobe serve` in a child process on 127.0.0.1 (`--max-sessions` raised so the
bench is not refused). Two kinds of session are held:

- offers only: the same aiortc audio+video+data offer POSTed to /whip again and again, never
  connected: what a flood of offers holds until each session's 30 s connect deadline;
- connected: aiortc clients (audio sendrecv and a data channel) that connect and stay, echoed.

RSS is /proc/PID/status VmRSS, fds are the entries of /proc/PID/fd, both read after the target has
answered every offer of a step (and, for connected sessions, once every client is connected).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import subprocess
import sys
from pathlib import Path

import aiohttp
from aiortc import RTCConfiguration, RTCPeerConnection

from rtcprobe.probe.loopback import restrict_to_loopback

REPO = Path(__file__).resolve().parents[1]
CONNECT_GUARD = 60.0


def rss_and_fds(pid: int) -> tuple[float, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
    return rss_kib / 1024, len(os.listdir(f"/proc/{pid}/fd"))


def start_target() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "rtcprobe.cli", "serve", "--port", "0",
                             "--max-sessions", "5000", "--max-connections-per-ip", "5000"],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    if not ready:
        raise SystemExit("serve did not start within 60 s")
    return proc, proc.stdout.readline().rsplit(" ", 1)[1].strip()


async def an_offer(pc: RTCPeerConnection) -> str:
    pc.addTransceiver("audio", direction="sendrecv")
    pc.createDataChannel("bench")
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def post(http: aiohttp.ClientSession, url: str, sdp: str) -> str:
    async with http.post(url, data=sdp, headers={"Content-Type": "application/sdp"}) as response:
        if response.status != 201:
            raise SystemExit(f"offer refused: {response.status} {await response.text()}")
        return await response.text()


async def offers_only(base_url: str, pid: int, steps: list[int]) -> list[dict[str, float]]:
    rows = []
    template = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    sdp = await an_offer(template)
    await template.close()
    held = 0
    async with aiohttp.ClientSession() as http:
        for step in steps:
            for _ in range(step - held):
                await post(http, base_url + "/whip", sdp)
            held = step
            rss, fds = rss_and_fds(pid)
            rows.append({"sessions": step, "rss_mib": round(rss, 1), "fds": fds})
            print(f"offers only: {step:4d} sessions  RSS {rss:7.1f} MiB  fds {fds}", flush=True)
    return rows


async def connected(base_url: str, pid: int, count: int) -> list[dict[str, float]]:
    from aiortc import AudioStreamTrack, RTCSessionDescription

    rows = [dict(zip(("rss_mib", "fds"), rss_and_fds(pid), strict=True), sessions=0)]
    pcs = []
    async with aiohttp.ClientSession() as http:
        for _ in range(count):
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            pcs.append(pc)
            pc.addTrack(AudioStreamTrack())
            pc.createDataChannel("bench")
            await pc.setLocalDescription(await pc.createOffer())
            answer = await post(http, base_url + "/whip", pc.localDescription.sdp)
            await pc.setRemoteDescription(RTCSessionDescription(answer, "answer"))

        async def all_connected() -> None:
            while any(pc.connectionState != "connected" for pc in pcs):
                await asyncio.sleep(0.1)

        try:
            await asyncio.wait_for(all_connected(), CONNECT_GUARD)
        except TimeoutError:  # CPU, not memory, is then the ceiling: say so instead of a figure
            done = sum(pc.connectionState == "connected" for pc in pcs)
            raise SystemExit(f"only {done} of {count} sessions connected within {CONNECT_GUARD:g} s "
                             "(CPU-bound: each echoes audio)") from None
        await asyncio.sleep(2)  # media flowing both ways
        rss, fds = rss_and_fds(pid)
        rows.append({"sessions": count, "rss_mib": round(rss, 1), "fds": fds})
        print(f"connected:   {count:4d} sessions  RSS {rss:7.1f} MiB  fds {fds}", flush=True)
    for pc in pcs:
        await pc.close()
    return rows


def per_session(rows: list[dict[str, float]]) -> dict[str, float]:
    first, last = rows[0], rows[-1]
    n = last["sessions"] - first["sessions"]
    return {"rss_mib": round((last["rss_mib"] - first["rss_mib"]) / n, 2),
            "fds": round((last["fds"] - first["fds"]) / n, 2)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="0,50,100,200", help="offers-only session counts")
    parser.add_argument("--connected", type=int, default=20, help="connected sessions to hold")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    restrict_to_loopback()  # the target on loopback keeps ICE there; so must its clients
    steps = [int(s) for s in args.steps.split(",")]
    result = {}
    for kind in ("offers_only", "connected"):
        proc, base_url = start_target()  # a fresh target per kind: one's sessions do not count for the other
        try:
            rows = (await offers_only(base_url, proc.pid, steps) if kind == "offers_only"
                    else await connected(base_url, proc.pid, args.connected))
        finally:
            proc.terminate()
            proc.wait(30)
        result[kind] = {"rows": rows, "per_session": per_session(rows)}
        print(f"{kind}: per session {result[kind]['per_session']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())

"""Client rows of the interop matrix: a third-party WHIP *client* publishes to `rtcprobe serve`
(run with -v, whose session lifecycle on stderr is the witness that the session connected and was
DELETEd), both inside a namespace of our own with a default route into its veth pair (Firefox
gathers nothing without one). The profile column is `rtcprobe analyze` of the offer the client
sent, compared with what the client is known to offer and with the offer's own text."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from netns import PROBE_ADDRESS, Namespace, unavailable_reason
from peers import HERE, Expect, Peer, profile_mismatches

ROOT = HERE.parent
RTCPROBE = [sys.executable, "-m", "rtcprobe.cli"]
SERVE_PORT = 8090
PUBLISH_SECONDS = 3


@dataclass(frozen=True)
class Client:
    name: str
    stack: str
    missing: Callable[[], str | None]
    publish: Callable[[list[str], str, Path], str | None]  # (namespace prefix, WHIP URL, workdir) -> offer SDP
    known: tuple[Expect, ...]


def _firefox_missing() -> str | None:
    return None if shutil.which("firefox-esr") else "firefox-esr is not installed (Debian package firefox-esr)"


def _firefox_publish(wrap: list[str], url: str, workdir: Path) -> str | None:
    done = subprocess.run([*wrap, sys.executable, str(HERE / "peers" / "firefox_whip.py"), url,
                           "--seconds", str(PUBLISH_SECONDS)], capture_output=True, text=True, timeout=180, cwd=ROOT)
    (workdir / "firefox-esr.client.json").write_text(done.stdout)
    result = json.loads(done.stdout) if done.stdout.strip() else {"error": done.stderr[-300:]}
    if "error" in result:
        raise RuntimeError(result["error"])
    if not all(o.get("packetsSent", 0) > 0 for o in result.get("outbound", [])) or not result.get("outbound"):
        raise RuntimeError(f"Firefox sent no RTP on some track: {result.get('outbound')}")
    return result["offer"]


def _gst_missing() -> str | None:
    if not shutil.which("whip-client"):
        return "whip-client is not installed (Debian package simple-whip-client)"
    if not (HERE / "build" / "gst" / "libgupnp-igd-1.0.so.4").exists():
        return "the libgupnp-igd stub is not built (interop/install.sh builds it with gcc)"
    return None


GST_AUDIO = ("audiotestsrc is-live=true wave=sine ! audioconvert ! audioresample ! queue ! opusenc ! "
             "rtpopuspay pt=100 ssrc=1 ! queue ! application/x-rtp,media=audio,encoding-name=OPUS,payload=100")


def _gst_publish(wrap: list[str], url: str, workdir: Path) -> str | None:
    log = workdir / "gstreamer-whip-client.log"
    with log.open("w") as out:
        stub = HERE / "build" / "gst"  # the libgupnp-igd stub install.sh builds (PEERS.md)
        proc = subprocess.Popen([*wrap, "env", f"LD_LIBRARY_PATH={stub}", "whip-client", "-u", url, "-n", "-A", GST_AUDIO, "-l", "7", "-o"],
                                stdout=out, stderr=subprocess.STDOUT)
        try:
            time.sleep(PUBLISH_SECONDS + 2)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    text = log.read_text(errors="replace")
    if "libsoup2 symbols" in text:
        raise RuntimeError("aborts: libsoup2 symbols detected (libnice → gupnp-igd → libsoup3; needs the stub "
                           "libgupnp-igd-1.0.so.4 of PEERS.md)")
    match = re.search(r"(v=0\r?\n.*?)(?:\n\s*\n|\Z)", text, re.S)
    return match.group(1).replace("\r\n", "\n").replace("\n", "\r\n") if match else None


CLIENTS: tuple[Client, ...] = (
    Client("firefox-esr", "Firefox ESR 153 headless over WebDriver BiDi (Debian firefox-esr)", _firefox_missing,
           _firefox_publish, known=(
               Expect("Audio", "direction", "sendonly", "sendonly transceivers"),
               Expect("ICE/TURN", "ice_options", ["trickle"], "Firefox offers trickle"),
               Expect("RTCP", "transport_cc", True, "Firefox offers transport-cc"),
               Expect("RTCP", "remb", True, "Firefox still offers goog-remb on video"),
               Expect("Video", "h264_profiles", [], "Debian's build has no OpenH264 plugin"),
               Expect("SRTP encryption", "setup", ["actpass"], "an offerer's setup"),
           )),
    Client("gstreamer-whip-client", "GStreamer 1.22 webrtcbin via Debian simple-whip-client", _gst_missing,
           _gst_publish, known=(
               Expect("Audio", "direction", "sendonly", "a publishing client"),
               Expect("PeerConnection", "bundle_groups", [], "whip-client builds webrtcbin with bundle-policy=none"),
               Expect("PeerConnection", "mids", ["audio0"], "webrtcbin names its mids audio0, video1..."),
               Expect("RTCP", "rtcp_rsize", True, "webrtcbin offers a=rtcp-rsize"),
               Expect("ICE/TURN", "transports", ["UDP", "TCP"], "libnice gathers TCP active/passive too"),
           )),
)


def _serve_log_verdict(log: str) -> str:
    connected = re.search(r"session (\w+): connection connected", log)
    if not connected:
        return "no session connected on rtcprobe serve"
    if f"session {connected.group(1)} closed: deleted by the client" not in log:
        return "connected, but the client did not DELETE its session"
    return "completes"


def run_client(client: Client, workdir: Path) -> dict:
    """One client row: {capture, profile, check}."""
    if reason := client.missing() or unavailable_reason():
        return {"capture": f"cannot run here: {reason}", "profile": "not run", "check": "n/a (a client)"}
    with Namespace(default_route=True) as ns:
        wrap = ns.command([])
        serve_log = workdir / f"{client.name}.serve.log"
        with serve_log.open("w") as out:
            serve = subprocess.Popen([*wrap, *RTCPROBE, "serve", "--host", PROBE_ADDRESS, "--port", str(SERVE_PORT),
                                      "-v"], stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
            try:
                deadline = time.monotonic() + 30
                while "Ctrl-C to stop" not in serve_log.read_text():
                    if serve.poll() is not None or time.monotonic() > deadline:
                        return {"capture": "rtcprobe serve did not start", "profile": "not run", "check": "n/a"}
                    time.sleep(0.1)
                try:
                    offer = client.publish(wrap, f"http://{PROBE_ADDRESS}:{SERVE_PORT}/whip", workdir)
                except (RuntimeError, json.JSONDecodeError, subprocess.TimeoutExpired) as error:
                    return {"capture": f"fails: {error}", "profile": "not run", "check": "n/a (a client)"}
                time.sleep(0.5)
            finally:
                serve.send_signal(signal.SIGINT)
                serve.wait(15)
    capture = _serve_log_verdict(serve_log.read_text())
    return {"capture": capture, "profile": _profile(client, offer, workdir), "check": "n/a (a client)"}


def _profile(client: Client, offer: str | None, workdir: Path) -> str:
    if not offer:
        return "not read: the client's offer was not in its log"
    path = workdir / f"{client.name}.offer.sdp"
    path.write_text(offer)
    done = subprocess.run([*RTCPROBE, "analyze", "--json", "--side", "offer", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    rows = json.loads(done.stdout)["profile"]
    as_peer = Peer(client.name, client.stack, lambda h, p: [], client.missing, False, client.known)
    wrong = profile_mismatches(as_peer, rows, offer)
    return "right" if not wrong else "wrong: " + "; ".join(wrong)

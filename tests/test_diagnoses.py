"""What a session ends with, and what the summary claims, when it goes wrong before or after media:
real probe sessions on loopback against the reference peer (rtcprobe.server.peer) behind small
aiohttp endpoints written here, so that the endpoint can misbehave in ways the reference target
has no knob for (an answer with only non-loopback candidates while the peer still checks us;
a DELETE answered 500; plain HTTP on an https:// URL; a self-signed certificate). DNS failures run
in a private network namespace (`unshare`), so no query leaves this host."""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import shutil
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import test_probe_e2e as e2e
from aiohttp import web

from rtcprobe.analyze.connection import session_candidates
from rtcprobe.analyze.latency import connect_breakdown
from rtcprobe.analyze.profile import profile
from rtcprobe.analyze.timeline import timeline_entries
from rtcprobe.analyze.wire import extension_report
from rtcprobe.probe.loopback import LOOPBACK_POLICY, restrict_to_loopback
from rtcprobe.probe.options import PhaseTimeouts
from rtcprobe.server import ServerConfig, run_server
from rtcprobe.server.peer import EchoSession, open_session

pytestmark = pytest.mark.slow

probe = e2e.probe

#: A documentation address (RFC 5737): advertised, dropped by the loopback policy, never contacted.
DOC_ADDRESS = "192.0.2.10"


def only_documentation_candidates(answer: str) -> str:
    """The answer with its real (loopback) candidates removed: only DOC_ADDRESS is advertised."""
    return "".join(line for line in answer.splitlines(keepends=True)
                   if not line.startswith("a=candidate:") or f" {DOC_ADDRESS} " in line)


@asynccontextmanager
async def whip_endpoint(*, answer: Callable[[str], str] = lambda sdp: sdp, delete_status: int = 200,
                        config: ServerConfig | None = None,
                        ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """A WHIP endpoint on 127.0.0.1 answered by the reference peer; yields its URL."""
    restrict_to_loopback()  # as `rtcprobe serve` does on a loopback host
    sessions: list[EchoSession] = []

    async def post(request: web.Request) -> web.Response:
        session = await open_session(await request.text(), config or ServerConfig(), endpoint="/whip")
        sessions.append(session)
        return web.Response(status=201, text=answer(session.answer_sdp), content_type="application/sdp",
                            headers={"Location": f"/whip/{session.id}"})

    async def delete(request: web.Request) -> web.Response:
        return web.Response(status=delete_status, text="teardown exploded" if delete_status >= 400 else "")

    app = web.Application()
    app.router.add_post("/whip", post)
    app.router.add_delete("/whip/{id}", delete)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    try:
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{runner.addresses[0][1]}/whip"
    finally:
        for session in sessions:
            await session.close()
        await runner.cleanup()


# -- the loopback policy ----------------------------------------------------------------------


async def test_peer_with_only_non_loopback_candidates_connects_peer_reflexively(tmp_path: Path) -> None:
    """The answer advertises only 192.0.2.10 (dropped: the URL is on loopback), yet the peer's
    checks arrive over loopback: ICE connects on a peer-reflexive pair, and the capture completes."""
    config = ServerConfig(advertise_ips=[DOC_ADDRESS], advertise_tcp_port=None)  # end-of-candidates kept
    async with whip_endpoint(answer=only_documentation_candidates, config=config) as url:
        capture = await probe(tmp_path, url, duration=1.0, stats_interval=0.5, timeouts=PhaseTimeouts(ice=8))
    assert capture.ok, capture.diagnosis
    remote = [e for e in capture.of("candidate") if e["side"] == "remote" and e["candidate"]]
    assert [e["candidate"].split()[4] for e in remote] == [DOC_ADDRESS]
    assert remote[0]["ignored"] == LOOPBACK_POLICY  # which candidate, and why, is in the capture
    assert "1 non-loopback candidate(s) of the target were ignored" in capture.diagnosis
    (pairs,) = capture.of("ice_pairs")
    (selected,) = [p for p in pairs["pairs"] if p["nominated"] and p["state"] == "succeeded"]
    assert selected["remote"].startswith("127.0.0.1:")  # learned from the peer's checks, not signaled
    assert capture.state_reached("dtls", "connected") is not None
    assert connect_breakdown(capture).total is not None
    rows = [c for c in session_candidates(capture) if c.side == "remote"]
    (advertised,) = [c for c in rows if c.row.address == DOC_ADDRESS]
    assert advertised.ignored == LOOPBACK_POLICY and not advertised.selected
    (chosen,) = [c for c in rows if c.selected]
    assert chosen.row.address == "127.0.0.1" and chosen.source == "checks"

    from rtcprobe.report.html import write_report

    html = Path(write_report([capture.path], tmp_path / "report.html").path).read_text()
    assert f"ignored: {LOOPBACK_POLICY}" in html
    assert any(e.event == "candidate" and e.summary.endswith(f"— ignored: {LOOPBACK_POLICY}")
               for e in timeline_entries(capture))


async def test_ice_failure_after_the_loopback_policy_says_so(serve, tmp_path: Path) -> None:
    """A peer that advertises only a non-loopback address and never checks us: the diagnosis names
    the ignored candidate and how to avoid the policy, instead of "no pair could be formed"."""
    base = await serve(advertise_ips=[DOC_ADDRESS], advertise_tcp_port=None, only_advertised=True)
    capture = await probe(tmp_path, base + "/whip", timeouts=PhaseTimeouts(ice=2, dtls=1))
    assert capture.reason == "ice"
    assert f"ignored 1 candidate(s) of the target ({DOC_ADDRESS}:3478/udp)" in capture.diagnosis
    assert "non-loopback address of this host" in capture.diagnosis  # how to avoid it
    assert "no connectivity check came from the target" in capture.diagnosis
    breakdown = connect_breakdown(capture)
    assert breakdown.failed_phase == "ice" and breakdown.total is None and breakdown.total_note == "no media"


def no_candidates(answer: str) -> str:
    """The answer with no candidate at all, end-of-candidates kept: nothing for our agent to check."""
    return "".join(line for line in answer.splitlines(keepends=True) if not line.startswith("a=candidate:"))


async def test_session_connected_after_the_ice_agent_said_failed(tmp_path: Path) -> None:
    """aioice declares ICE failed at once when the answer leaves it nothing to check, although the
    peer's check has already formed a peer-reflexive pair that succeeds, and aiortc runs DTLS on it.
    The session is judged on what happened: DTLS connected on a selected pair, media flowed."""
    async with whip_endpoint(answer=no_candidates) as url:
        capture = await probe(tmp_path, url, duration=1.0, stats_interval=0.5, timeouts=PhaseTimeouts(ice=5))
    assert capture.ok, capture.diagnosis
    assert "failed" in [s for _, s in capture.states("ice_connection")]  # what the agent said, kept
    (warning,) = capture.end["warnings"]
    assert warning.startswith("the ICE agent reported failure, yet the pair 127.0.0.1:")
    assert "succeeded and was selected; DTLS connected on it" in warning
    assert all(r["packetsReceived"] > 0 for r in capture.last_stats() if r["type"] == "inbound-rtp")
    breakdown = connect_breakdown(capture)
    assert breakdown.failed_phase is None and breakdown.total is not None
    assert breakdown.phase("ice").end == capture.first("selected_pair")["t"]


# -- refused requests: no media, no "to media", no "not WHIP" ----------------------------------


async def test_refused_whip_offer_claims_nothing_it_cannot_know(serve, tmp_path: Path) -> None:
    base = await serve(token="right-token")
    capture = await probe(tmp_path, base + "/whip", token="wrong-token")
    assert capture.reason == "http" and "401" in capture.diagnosis
    breakdown = connect_breakdown(capture)
    assert breakdown.total is None and breakdown.total_note == "no media"
    assert breakdown.as_dict()["total"] is None
    rows = {r.aspect: r.summary for r in profile(capture.negotiation).rows}
    assert rows["Interface"] == ("WHIP offer (application/sdp POST) (request refused: 401 Unauthorized)"
                                 " — interface not established")
    extensions = extension_report(capture)  # nothing flowed: no "negotiated but never seen" rows
    assert extensions.rows == [] and "no RTP flowed" in extensions.note and "target sent no answer" in extensions.note


def test_refused_capture_summary_says_no_media(tmp_path: Path) -> None:
    """The CLI's terminal and JSON summaries of a 401: no "to media" time anywhere."""
    async def run() -> None:
        runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0, token="right-token"))
        try:
            for flag in ("--no-live", "--json"):
                proc = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "rtcprobe.cli", "capture", f"{base}/whip", "--token", "nope",
                    "-o", str(tmp_path / f"c{flag}.jsonl"), flag, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    env={**os.environ, "COLUMNS": "200"})
                out, err = await asyncio.wait_for(proc.communicate(), 60)
                assert proc.returncode == 1, err.decode()
                if flag == "--json":
                    document = json.loads(out)
                    assert document["connect"]["total"] is None and document["connect"]["total_note"] == "no media"
                    (interface,) = [r for r in document["profile"]["rows"] if r["aspect"] == "Interface"]
                    assert "request refused: 401 Unauthorized" in interface["summary"]
                else:
                    (line,) = [line for line in out.decode().splitlines() if "to media" in line]
                    assert "no media" in line and " ms" not in line
                    assert "this profile is of rtcprobe's own offer" in out.decode()
        finally:
            await runner.cleanup()

    asyncio.run(run())


# -- teardown ---------------------------------------------------------------------------------


async def test_refused_teardown_is_a_warning(tmp_path: Path) -> None:
    async with whip_endpoint(delete_status=500) as url:
        capture = await probe(tmp_path, url, duration=0.5, stats_interval=0.5)
    assert capture.ok, capture.diagnosis  # the session ran: its numbers stand
    (warning,) = capture.end["warnings"]
    assert warning.startswith("teardown failed: DELETE http://127.0.0.1:") and "answered 500" in warning
    assert timeline_entries(capture)[-1].summary.endswith(f"; warning: {warning}")
    (delete,) = [h for h in capture.http if h["method"] == "DELETE"]
    assert delete["status"] == 500 and delete["error"]

    from rtcprobe.report.html import write_report

    report = write_report([capture.path], tmp_path / "report.html").path
    html = Path(report).read_text()
    assert "answered 500 Internal Server Error" in html and ">warning<" in html


def test_refused_teardown_exits_zero_with_a_printed_warning(tmp_path: Path) -> None:
    async def run() -> tuple[int, str]:
        async with whip_endpoint(delete_status=500) as url:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "rtcprobe.cli", "capture", url, "--no-live", "--duration", "0.5",
                "-o", str(tmp_path / "c.jsonl"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env={**os.environ, "COLUMNS": "300"})
            out, _ = await asyncio.wait_for(proc.communicate(), 60)
            return proc.returncode or 0, out.decode()

    code, out = asyncio.run(run())
    assert code == 0
    assert "warning: teardown failed: DELETE" in out and "answered 500" in out


# -- what a failed connection is called ---------------------------------------------------------


async def test_https_url_on_a_plain_http_port(tmp_path: Path) -> None:
    async with whip_endpoint() as url:
        capture = await probe(tmp_path, url.replace("http://", "https://"))
    assert capture.reason == "http"
    assert "the server answered plain HTTP to a TLS handshake; use http://" in capture.diagnosis
    assert "operation not permitted" not in capture.diagnosis


def self_signed_context(tmp_path: Path) -> ssl.SSLContext:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


async def test_self_signed_certificate_is_named(tmp_path: Path) -> None:
    async with whip_endpoint(ssl_context=self_signed_context(tmp_path)) as url:
        capture = await probe(tmp_path, url)
    assert capture.reason == "http"
    assert "TLS certificate of 127.0.0.1 not accepted (self-signed certificate)" in capture.diagnosis


async def test_http_url_on_a_tls_port(tmp_path: Path) -> None:
    async with whip_endpoint(ssl_context=self_signed_context(tmp_path)) as url:
        capture = await probe(tmp_path, url.replace("https://", "http://"))
    assert capture.reason == "http"
    assert "the server closed the connection without answering; if it speaks TLS on this port, use https://" \
        in capture.diagnosis


#: Run inside a private network namespace: an optional NXDOMAIN-only DNS server on 127.0.0.1:53
#: (resolv.conf is bind-mounted to point there), then a probe of a name under .invalid (RFC 6761).
DNS_SCRIPT = r"""
import asyncio, json, socket, struct, sys, threading
from pathlib import Path
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession

def nxdomain(sock):
    while True:
        query, peer = sock.recvfrom(512)
        question = query[12:query.index(b"\0", 12) + 5]
        sock.sendto(query[:2] + struct.pack(">HHHHH", 0x8183, 1, 0, 0, 0) + question, peer)

if sys.argv[1] == "nxdomain":
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 53))
    threading.Thread(target=nxdomain, args=(server,), daemon=True).start()
options = ProbeOptions(target="http://no-such-host.invalid/whip", output=Path(sys.argv[2]))
result = asyncio.run(ProbeSession(options).run())
print(json.dumps({"reason": result.reason, "diagnosis": result.diagnosis}))
"""


@pytest.mark.parametrize(("resolver", "words"), [
    ("nxdomain", "name not found: DNS has no address for no-such-host.invalid"),
    ("none", "cannot resolve no-such-host.invalid: no DNS resolver reachable"),
])
def test_dns_failures_are_named(tmp_path: Path, resolver: str, words: str) -> None:
    if not (shutil.which("unshare") and shutil.which("ip") and shutil.which("mount")):
        pytest.skip("needs unshare, ip and mount for a private network namespace")
    (tmp_path / "resolv.conf").write_text("nameserver 127.0.0.1\n")
    (tmp_path / "resolve_probe.py").write_text(DNS_SCRIPT)
    inner = (f"ip link set lo up && mount --bind {tmp_path / 'resolv.conf'} /etc/resolv.conf && "
             f"exec {sys.executable} {tmp_path / 'resolve_probe.py'} {resolver} {tmp_path / 'c.jsonl'}")
    proc = subprocess.run(["unshare", "-rnm", "sh", "-c", inner], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0 and "unshare" in proc.stderr and "Operation not permitted" in proc.stderr:
        pytest.skip(f"no private namespaces here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["reason"] == "http" and words in result["diagnosis"], result
    assert "unknown error" not in result["diagnosis"]


# -- the Interface row: decided from the request, judged only from an answer ---------------------


def offer_http(status: int | None, content_type: str, url: str = "https://svc.test/whip/ep", **more: object) -> dict:
    return {"event": "http", "t": 0.1, "phase": "offer", "method": "POST", "url": url, "status": status,
            "request_content_type": content_type, "request_headers": {"Content-Type": content_type},
            "form_fields": [], "location": None, **more}


@pytest.mark.parametrize(("http", "protocol", "expected"), [
    (offer_http(401, "application/sdp"), "whip",
     "WHIP offer (application/sdp POST) (request refused: 401 Unauthorized) — interface not established"),
    (offer_http(403, "application/sdp"), None,  # an import: the path says what was meant
     "WHIP offer (application/sdp POST) (request refused: 403 Forbidden) — interface not established"),
    (offer_http(500, "application/sdp", url="https://svc.test/offer"), "sdp-post",
     "SDP POST (application/sdp) (request refused: 500 Internal Server Error) — interface not established"),
    (offer_http(401, "multipart/form-data; boundary=x", url="https://api.test/v1/realtime/calls",
                form_fields=["sdp", "session"]), "openai",
     "multipart form POST with `sdp` and `session` fields (OpenAI realtime calls) (request refused: 401 "
     "Unauthorized) — interface not established"),
    (offer_http(None, "application/sdp", error="POST https://svc.test/whip/ep failed: name not found"), "whip",
     "WHIP offer (application/sdp POST) that got no answer (POST https://svc.test/whip/ep failed: name not found)"
     " — interface not established"),
    (offer_http(201, "application/sdp", location="/whip/ep/1"), "whip",
     "WHIP (RFC 9725): application/sdp POST, 201 Created with Location"),
    (offer_http(200, "application/sdp"), "whip", "plain SDP POST answered 200 OK (not WHIP: no Location)"),
])
def test_interface_row(http: dict, protocol: str | None, expected: str) -> None:
    from rtcprobe.analyze.interface import describe_interface

    summary, facts = describe_interface([http], protocol)
    assert summary == expected
    assert facts["established"] == (http["status"] is not None and 200 <= http["status"] < 300)


async def test_created_without_an_sdp_answer_is_not_called_whip(serve, tmp_path: Path) -> None:
    base = await serve(garbage_body=True)  # 201 with an HTML page
    capture = await probe(tmp_path, base + "/whip")
    assert capture.reason == "http"
    rows = {r.aspect: r.summary for r in profile(capture.negotiation).rows}
    assert rows["Interface"].startswith("WHIP offer (application/sdp POST) answered 20")
    assert rows["Interface"].endswith("not an SDP answer — interface not established")
    assert connect_breakdown(capture).total_note == "no media"

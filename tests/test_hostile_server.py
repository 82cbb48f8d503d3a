"""A hostile server, on the probe's side: `rtcprobe capture` run as a user runs it (a subprocess
under a memory limit, tests/hostile.py) against small aiohttp apps on 127.0.0.1 that answer
endlessly, trickle, inject terminal escapes, or send data-channel messages meant to break the
recorder. Each ends in a capture with a clear end, bounded memory and a small file."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from aiortc import RTCPeerConnection, RTCSessionDescription
from hostile import local_app, run_cli

from rtcprobe import load
from rtcprobe.limits import MAX_RESPONSE_BYTES
from rtcprobe.probe.loopback import host_address, is_loopback, is_loopback_url, restrict_to_loopback

REALWORLD = Path(__file__).parent / "data" / "realworld" / "sdp"
ESC = "\x1b"
#: What a hostile body says: set the window title, clear the screen, and rich markup.
INJECTION = f"{ESC}]0;pwned\x07{ESC}[2J[bold red]boom[/bold red]"


async def capture(routes: dict[tuple[str, str], Any], output: Path, *args: str, path: str = "/whip") -> Any:
    """`rtcprobe capture` in a subprocess (a thread, so that this loop keeps serving) against an
    app with `routes` on 127.0.0.1; the app is gone when it returns."""
    runner, base = await local_app(routes)
    try:
        return await asyncio.to_thread(run_cli, "capture", base + path, "-o", str(output), "--no-live",
                                       "--audio", "none", *args)
    finally:
        await runner.cleanup()  # type: ignore[attr-defined]


def last_event(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text().splitlines()[-1])


def assert_no_raw_escape(run: Any) -> None:
    assert ESC not in run.stdout and ESC not in run.stderr
    assert "\x07" not in run.stdout and "\x07" not in run.stderr
    assert "Traceback" not in run.stderr


# -- unbounded reads ---------------------------------------------------------------------------


async def endless(request: web.Request) -> web.StreamResponse:
    """201 application/sdp whose body never ends (no Content-Length: chunked)."""
    response = web.StreamResponse(status=201, headers={"Content-Type": "application/sdp"})
    await response.prepare(request)
    chunk = b"v=0\r\n" + b"a=x-filler:" + b"A" * 65_000 + b"\r\n"
    while True:
        await response.write(chunk)


async def declared_huge(request: web.Request) -> web.StreamResponse:
    """A 1 GB Content-Length, and the first bytes of it."""
    response = web.StreamResponse(status=201, headers={"Content-Type": "application/sdp",
                                                       "Content-Length": str(1 << 30)})
    await response.prepare(request)
    await response.write(b"v=0\r\n" + b"x" * 65_536)
    await asyncio.sleep(3)  # the probe must give up on the declared length alone
    return response


@pytest.mark.parametrize("handler", [endless, declared_huge], ids=["endless", "declared-1GB"])
async def test_huge_answer_ends_http_with_bounded_memory_and_file(tmp_path: Path, handler: Any) -> None:
    out = tmp_path / "c.jsonl"
    run = await capture({("POST", "/whip"): handler}, out, "--timeout", "http=20")
    assert run.status == 1, run.stderr
    assert_no_raw_escape(run)
    end = last_event(out)
    assert end["event"] == "end" and end["reason"] == "http"
    assert f"larger than {MAX_RESPONSE_BYTES:,} bytes" in end["diagnosis"]
    assert "end: http" in run.stdout and "larger than" in run.stdout
    assert out.stat().st_size < 64 * 1024  # the capture keeps an excerpt, never the body
    assert all(len(line) < 16 * 1024 for line in out.read_text().splitlines())


async def test_trickled_answer_ends_at_the_http_deadline(tmp_path: Path) -> None:
    """One byte a second, forever: each read succeeds, the total deadline ends it."""
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=201, headers={"Content-Type": "application/sdp"})
        await response.prepare(request)
        while True:
            await response.write(b"v")
            await asyncio.sleep(0.5)

    out = tmp_path / "c.jsonl"
    run = await capture({("POST", "/whip"): trickle}, out, "--timeout", "http=2")
    assert run.status == 1 and "Traceback" not in run.stderr
    end = last_event(out)
    assert end["reason"] == "timeout" and "within 2 s" in end["diagnosis"]


# -- terminal escapes --------------------------------------------------------------------------


async def test_error_body_with_escapes_and_markup_reaches_the_terminal_escaped(tmp_path: Path) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=400, text=f"bad offer {INJECTION}", content_type="text/plain")

    out = tmp_path / "c.jsonl"
    run = await capture({("POST", "/whip"): refuse}, out)
    as_json = await capture({("POST", "/whip"): refuse}, tmp_path / "j.jsonl", "--json")
    assert run.status == 1
    assert_no_raw_escape(run)
    assert_no_raw_escape(as_json)
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in run.stdout  # shown, escaped
    assert "[bold red]boom[/bold red]" in run.stdout  # shown as written, not read as markup
    assert last_event(out)["reason"] == "http"


def test_analyze_shows_escapes_in_sdp_escaped(tmp_path: Path) -> None:
    """A real answer (aiortc's Chrome fixture) with escapes in an attribute, a candidate's
    address and type, and the media type."""
    sdp = (REALWORLD / "aiortc-audio_chrome-2.sdp").read_text()
    sdp = sdp.replace("a=rtcp-mux\n", f"a=rtcp-mux\na=x-evil:{INJECTION}\n", 1)
    sdp += f"a=candidate:1 1 udp 2130706431 evil{ESC}[2J.example 9 typ host{ESC}]0;t\x07\n"
    sdp += f"m=text{ESC}[31m 9 UDP/TLS/RTP/SAVPF 98\na=mid:t\n"
    path = tmp_path / "evil.sdp"
    path.write_text(sdp)
    run = run_cli("analyze", str(path))
    assert_no_raw_escape(run)
    assert run.status in (0, 2), run.stderr
    if run.status == 0:
        assert "a=x-evil:\\x1b]0;pwned\\x07\\x1b[2J[bold red]boom[/bold red]" in run.stdout
    else:  # refused: one line, escaped
        assert len(run.stderr.strip().splitlines()) == 1


# -- one message must not kill a session --------------------------------------------------------

TOKEN = "hostile-peer-Tok3n-0123456789abcdef"
NESTED = "[" * 30_000 + "]" * 30_000  # far past what Python's json parses (~1,000 levels)


def peer_messages(token: str) -> list[str | bytes]:
    """What the hostile peer sends once the probe's channel opens."""
    straddling = json.dumps({"type": "x", "pad": "p" * 4_060, "echo": token})  # the token is cut at 4 KiB
    return [
        NESTED,
        b"\x00\x01binary " + token.encode() + b" \xff",
        straddling,
        json.dumps({"type": "echo", "basic": base64.b64encode(f"u:{token}".encode()).decode(),
                    "url": quote(token, safe=""), "b64url": base64.urlsafe_b64encode(token.encode()).decode()}),
        json.dumps({"type": f"{ESC}]0;title\x07[bold]x[/bold]"}),
        json.dumps({"type": {"nested": "not a name"}}),
    ]


async def test_a_peer_cannot_end_the_capture_with_a_message(tmp_path: Path) -> None:
    """A WHIP target whose peer (aiortc, in this process) sends a message nested 30,000 deep, a
    binary message with the token, a message whose 4 KiB cut splits the token, encoded echoes of
    it and a type with escapes: the session completes, every message is recorded, none leaks."""
    restrict_to_loopback()  # the probe keeps ICE on loopback; so must this peer
    pcs: list[RTCPeerConnection] = []
    seen_tokens: list[str] = []

    async def whip(request: web.Request) -> web.Response:
        seen_tokens.append(request.headers.get("Authorization", "").removeprefix("Bearer "))
        pc = RTCPeerConnection()
        pcs.append(pc)

        @pc.on("datachannel")
        def on_channel(channel: Any) -> None:
            for message in peer_messages(seen_tokens[-1]):
                channel.send(message)

        await pc.setRemoteDescription(RTCSessionDescription(await request.text(), "offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        return web.Response(status=201, text=pc.localDescription.sdp, content_type="application/sdp",
                            headers={"Location": "/whip/1"})

    async def delete(request: web.Request) -> web.Response:
        return web.Response(status=200)

    out = tmp_path / "c.jsonl"
    try:
        run = await capture({("POST", "/whip"): whip, ("DELETE", "/whip/1"): delete}, out,
                            "--token", TOKEN, "--datachannel", "chat", "--duration", "2")
    finally:
        for pc in pcs:
            await pc.close()
    assert seen_tokens == [TOKEN]
    assert_no_raw_escape(run)
    assert run.status == 0, run.stdout + run.stderr
    cap = load(out)
    assert cap.end["reason"] == "completed"
    received = [e for e in cap.events if e["event"] == "dc_message" and e["direction"] == "received"]
    assert len(received) == len(peer_messages(TOKEN))
    nested, binary, straddling, echoes, escaped, odd_type = received
    assert nested["size"] == len(NESTED) and nested["truncated"] and nested["data"] == NESTED[:4096]
    assert "json_type" not in nested
    assert binary["binary"] and bytes.fromhex(binary["data"]) == b"\x00\x01binary [redacted] \xff"
    assert straddling["truncated"] and straddling["data"].endswith("[redacted]")
    assert echoes["json_type"] == "echo"
    assert escaped["json_type"] == f"{ESC}]0;title\x07[bold]x[/bold]"  # the capture keeps it as sent
    assert "json_type" not in odd_type
    text = out.read_text()
    for leak in (TOKEN, TOKEN[:12], TOKEN.encode().hex()[:24], quote(TOKEN, safe=""),
                 base64.b64encode(TOKEN.encode()).decode()[:16],
                 base64.urlsafe_b64encode(TOKEN.encode()).decode()[:16]):
        assert leak not in text, leak
    assert TOKEN[:12] not in run.stdout + run.stderr


# -- loopback spelled otherwise ------------------------------------------------------------------

LOOPBACK_HOSTS = ["127.0.0.1", "127.0.0.2", "127.255.255.254", "localhost", "LocalHost.", "app.localhost",
                  "[::1]", "::1", "[0:0:0:0:0:0:0:1]", "0000:0000:0000:0000:0000:0000:0000:0001", "[::1%lo]",
                  "[::ffff:127.0.0.1]", "::ffff:7f00:1", "127.1", "0x7f000001", "2130706433", "0177.0.0.1"]
NOT_LOOPBACK = ["10.0.0.1", "192.168.1.2", "example.com", "localhost.example.com", "1.2.3.4.nip.io",
                "[::ffff:10.0.0.1]", "[2001:db8::1]", "128.0.0.1", "", None]


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_loopback_in_every_spelling(host: str) -> None:
    assert is_loopback(host)
    url_host = f"[{host}]" if ":" in host and not host.startswith("[") else host
    assert is_loopback_url(f"http://{url_host}:8080/whip")


@pytest.mark.parametrize("host", NOT_LOOPBACK)
def test_not_loopback(host: str | None) -> None:
    assert not is_loopback(host)
    assert not is_loopback(host, destination=True)


@pytest.mark.parametrize("host", ["0.0.0.0", "[::]", "::", "0:0:0:0:0:0:0:0", "[::ffff:0.0.0.0]", "0"])
def test_unspecified_is_this_host_as_a_destination_not_as_a_bind_address(host: str) -> None:
    """Connecting to 0.0.0.0 or :: reaches this host; `serve --host 0.0.0.0` listens everywhere."""
    assert is_loopback(host, destination=True)
    assert not is_loopback(host)
    url_host = f"[{host.strip('[]')}]" if ":" in host else host
    assert is_loopback_url(f"http://{url_host}:8080/whip")


def test_host_address_reads_ipv4_mapped_and_legacy_forms() -> None:
    assert str(host_address("[::ffff:127.0.0.1]")) == "127.0.0.1"
    assert str(host_address("127.1")) == "127.0.0.1"
    assert str(host_address("0x7f.1")) == "127.0.0.1"
    assert host_address("my-host.example") is None

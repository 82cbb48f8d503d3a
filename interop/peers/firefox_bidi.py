"""Headless Firefox (ESR, from Debian) driven over WebDriver BiDi: its `--remote-debugging-port`,
one websocket, no geckodriver. The one driver of interop/peers/firefox_whip.py (a WHIP client) and
tests/data/record_firefox_offer.py (an offer profile)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

#: Fake devices, no permission prompt, BiDi only: what both scripts need.
BASE_PREFS = {
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
    "remote.active-protocols": 1,  # WebDriver BiDi only
}


@dataclass
class FirefoxPage:
    """The blank page of a BiDi session: `call` sends one command and returns its result."""

    ws: aiohttp.ClientWebSocketResponse
    context: str
    version: str
    _ident: int = 0

    async def call(self, method: str, params: dict) -> dict:
        self._ident += 1
        await self.ws.send_str(json.dumps({"id": self._ident, "method": method, "params": params}))
        async for message in self.ws:
            data = json.loads(message.data)
            if data.get("id") == self._ident:
                if data.get("type") == "error":
                    raise RuntimeError(f"{method}: {data.get('error')}: {data.get('message')}")
                return data["result"]
        raise RuntimeError(f"{method}: the websocket closed")


@contextlib.asynccontextmanager
async def firefox_page(firefox: str, port: int, prefs: dict) -> AsyncIterator[FirefoxPage]:
    """Firefox on about:blank with `prefs` in a new profile, a BiDi session on `port`; stopped after."""
    with tempfile.TemporaryDirectory(prefix="rtcprobe-ff-") as profile:
        Path(profile, "user.js").write_text("".join(f'user_pref("{k}", {json.dumps(v)});\n' for k, v in prefs.items()))
        proc = subprocess.Popen([firefox, "--headless", "--no-remote", "--profile", profile,
                                 f"--remote-debugging-port={port}", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            version = subprocess.run([firefox, "--version"], capture_output=True, text=True).stdout.strip()
            async with aiohttp.ClientSession() as http:
                for _ in range(150):  # Firefox takes a few seconds to listen
                    try:
                        ws = await http.ws_connect(f"ws://127.0.0.1:{port}/session")
                        break
                    except aiohttp.ClientError:
                        await asyncio.sleep(0.2)
                else:
                    raise RuntimeError("Firefox did not open its BiDi port")
                async with ws:
                    page = FirefoxPage(ws, "", version)
                    await page.call("session.new", {"capabilities": {}})
                    tree = await page.call("browsingContext.getTree", {})
                    page.context = tree["contexts"][0]["context"]
                    yield page
        finally:
            proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)


def deserialize(value: dict) -> object:
    """A BiDi remote value (object/array/primitive) as plain JSON."""
    kind = value.get("type")
    if kind == "object":
        return {k if isinstance(k, str) else str(k): deserialize(v) for k, v in value.get("value", [])}
    if kind == "array":
        return [deserialize(v) for v in value.get("value", [])]
    return value.get("value")

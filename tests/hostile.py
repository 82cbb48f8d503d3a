"""Helpers shared by the hostile-input suites (tests/test_hostile_*.py): run the CLI as a user
would, in a subprocess, under a memory limit and a hang guard. Keep it small."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: Address-space limit of a CLI run: far above what rtcprobe needs (~300 MB with aiortc loaded),
#: far below what an unbounded read would take.
MEMORY_LIMIT = 1536 * 1024 * 1024
#: Wall-clock guard against a hang: not a speed assertion.
HANG_GUARD = 120.0


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None, memory: int = MEMORY_LIMIT, timeout: float = HANG_GUARD,
            env: dict[str, str] | None = None, stdin: str | None = None) -> Run:
    """`rtcprobe ARGS...` in a subprocess limited to `memory` bytes of address space (`stdin`: its input)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    proc = subprocess.run(
        [sys.executable, "-m", "rtcprobe.cli", *args], cwd=cwd, capture_output=True, text=True, input=stdin,
        timeout=timeout, preexec_fn=limit, env={**os.environ, "COLUMNS": "200", **(env or {})},
        errors="backslashreplace",
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def one_error(run: Run, name: str) -> str:
    """The run failed as bad input: exit 2, ONE stderr line (`rtcprobe: error: ...`) naming `name`,
    no traceback. Returns that line."""
    assert run.status == 2, (run.status, run.stderr[-2000:])
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rtcprobe: error:"), run.stderr[-2000:]
    assert name in lines[0], lines[0]
    return lines[0]


# -- raw HTTP, for hostile requests to `rtcprobe serve` --


@dataclass
class Answer:
    status: int | None  # None: the connection closed without an answer
    headers: dict[str, str]
    body: bytes


def raw_http(port: int, data: bytes, *, timeout: float = 10.0, host: str = "127.0.0.1",
             source: str | None = None) -> Answer:
    """Send `data` as is on a fresh connection and read one answer (to its Content-Length, or
    until the server closes); `timeout` is a hang guard (socket.timeout when it passes);
    `source` binds the client side to another loopback address."""
    import contextlib
    import socket

    with socket.create_connection((host, port), timeout=timeout,
                                  source_address=(source, 0) if source else None) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # the server may answer (and close) before reading everything
        received = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            received += chunk
            answer = _parse_answer(received)
            if not chunk or (answer.status is not None and "content-length" in answer.headers
                             and len(answer.body) >= int(answer.headers["content-length"])):
                return answer


def _parse_answer(received: bytes) -> Answer:
    head, found, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not found or not lines[0].startswith("HTTP/"):
        return Answer(None, {}, received)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(lines[0].split()[1]), headers, body)


async def local_app(routes: dict[tuple[str, str], object]) -> tuple[object, str]:
    """An aiohttp app with `routes` ({(method, path): handler}) on 127.0.0.1 (never another
    address): the hostile server a test points the probe at. Returns (runner, base URL)."""
    from aiohttp import web

    app = web.Application()
    for (method, path), handler in routes.items():
        app.router.add_route(method, path, handler)  # type: ignore[arg-type]
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


class RecordingTarget:
    """The reference target in a thread of this test process, recording each request as
    "METHOD /path"; requests whose method is in `hang_on` are never answered (a target whose
    DELETE hangs). Use as a context manager; `base` is its URL."""

    def __init__(self, hang_on: tuple[str, ...] = (), **config: object) -> None:
        import threading

        self.requests: list[str] = []
        self.base = ""
        self._hang_on = hang_on
        self._config = config
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> RecordingTarget:
        self._thread.start()
        assert self._ready.wait(30), "the reference target did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def saw(self, method: str, prefix: str = "/") -> bool:
        return any(r.startswith(f"{method} {prefix}") for r in list(self.requests))

    def _serve(self) -> None:
        import asyncio

        asyncio.run(self._main())

    async def _main(self) -> None:
        import asyncio

        from aiohttp import web

        from rtcprobe.server import ServerConfig
        from rtcprobe.server.app import create_app

        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()

        @web.middleware
        async def record(request: web.Request, handler):  # type: ignore[no-untyped-def]
            self.requests.append(f"{request.method} {request.path}")
            if request.method in self._hang_on:
                await asyncio.Event().wait()
            return await handler(request)

        app = create_app(ServerConfig(**self._config))  # type: ignore[arg-type]
        app.middlewares.insert(0, record)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

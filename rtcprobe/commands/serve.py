"""`rtcprobe serve`: the reference target on loopback, until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from typing import TYPE_CHECKING

from .. import interrupts
from . import EXIT_OK, UsageError
from .catalog import summary

if TYPE_CHECKING:
    from ..server import ServerConfig

ENDPOINTS = (("WHIP", "/whip"), ("WHEP (tone + pattern)", "/whep"),
             ("OpenAI realtime calls (GA)", "/v1/realtime/calls"),
             ("OpenAI realtime (beta)", "/v1/realtime"), ("SDP POST", "/offer"))


def _show_impairment() -> logging.Handler:
    """Each session's impairment changes and, at close, what its network did, on stdout (the target
    keeps no capture: this is its record)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("rtcprobe.server.impair")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler


class _PrintableFormatter(logging.Formatter):
    """Log lines carry what clients sent (paths, Host names): escaped as every stderr message is."""

    def format(self, record: logging.LogRecord) -> str:
        from ..report.terminal import printable

        return "\n".join(printable(line) for line in super().format(record).split("\n"))


def _show_requests() -> logging.Handler:
    """`serve -v`: each request (method, path, status, session, time taken) and each session's
    lifecycle (answered, connection states, closed with its reason), on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_PrintableFormatter("%(asctime)s %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("rtcprobe.server")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    return handler


async def _serve(config: ServerConfig, verbose: bool = False) -> None:
    from ..server import run_server

    logged = _show_requests() if verbose else None
    runner, base_url = await run_server(config)
    shown = _show_impairment() if config.impair_entries else None
    try:
        print(f"rtcprobe reference target at {base_url}", flush=True)
        for name, path in ENDPOINTS:
            print(f"  {name:28} {base_url}{path}", flush=True)
        if config.answer_profile:
            from ..profiles import load_answer_profile

            profile = load_answer_profile(config.answer_profile)
            print(f"  answering as {profile.name} ({profile.service} {profile.version})", flush=True)
        if config.voice_agent:
            print(f"  voice agent: answers {config.think_ms:g} ms after {config.vad_silence_ms} ms of silence"
                  " ends the caller's speech; true instants in each event's \"rtcprobe\" field", flush=True)
        for entry in config.impair_entries:  # each session's network, on its own clock
            print(f"  impairment from t={entry.at:g}s of each session: {entry.spec.text}"
                  f" (seed {config.seed}; up = what the target sends)", flush=True)
        if config.dtls_cert != "ecdsa":
            print(f"  DTLS certificate: {config.dtls_cert}", flush=True)
        if config.token:
            print("  a bearer token is required (given with --token; not shown)", flush=True)
        print(f"  limits: {config.max_sessions} sessions, {config.max_connections_per_ip} connections per"
              f" address, headers within {config.header_timeout:g} s, bodies within {config.body_timeout:g} s",
              flush=True)
        print("Ctrl-C to stop.", flush=True)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
        if shown is not None:
            logging.getLogger("rtcprobe.server.impair").removeHandler(shown)
        if logged is not None:
            logging.getLogger("rtcprobe.server").removeHandler(logged)


def cmd_serve(args: argparse.Namespace) -> int:
    from ..server import config_from_args

    try:
        config = config_from_args(args)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with contextlib.suppress(KeyboardInterrupt):  # the first signal cancels _serve, which closes every session
        interrupts.run(_serve(config, verbose=getattr(args, "verbose", False)))
    return EXIT_OK


def register(sub: argparse._SubParsersAction) -> None:
    from ..server import add_serve_arguments

    p = sub.add_parser("serve", help=summary("serve"))
    add_serve_arguments(p)
    p.add_argument("-v", "--verbose", action="store_true",
                   help="log each request (method, path, status, session, time) and each session's "
                        "lifecycle to stderr (default: quiet)")
    p.set_defaults(handler=cmd_serve)

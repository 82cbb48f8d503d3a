"""The reference target: an aiortc answerer behind aiohttp, speaking WHIP, the realtime GA and
beta interfaces and a generic offer endpoint, echoing media and data-channel messages, with knobs
for candidates, codecs, impairment and HTTP faults (`rtcprobe serve`)."""

from .app import create_app, run_server, serve_forever
from .config import DEFAULT_PORT, ServerConfig, add_serve_arguments, config_from_args
from .peer import EchoSession, OfferError

__all__ = [
    "DEFAULT_PORT", "EchoSession", "OfferError", "ServerConfig", "add_serve_arguments",
    "config_from_args", "create_app", "run_server", "serve_forever",
]

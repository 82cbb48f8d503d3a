"""Signaling adapters: one module per protocol, all with the shape of `Signaler` — an offer in;
the answer, the HTTP facts and a teardown handle out."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..redact import redact_url
from .base import HttpSignaler
from .exchange import HttpExchange, Signaler, SignalingError, SignalingResult
from .facts import parse_link_headers
from .openai import OpenAISignaler
from .openai_beta import OpenAIBetaSignaler
from .sdp_post import SdpPostSignaler
from .whep import WhepSignaler
from .whip import WhipSignaler, ice_servers_from_links

#: Protocol name (as in capture headers and `--protocol`) -> adapter class.
PROTOCOLS: dict[str, type[HttpSignaler]] = {
    "whip": WhipSignaler,
    "whep": WhepSignaler,
    "openai": OpenAISignaler,
    "openai-beta": OpenAIBetaSignaler,
    "sdp-post": SdpPostSignaler,
}


def check_target(url: str) -> None:
    """ValueError saying what is wrong with a target URL, before a session starts."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range or not a number
    except ValueError as exc:
        raise ValueError(f"target {redact_url(url)}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"target {redact_url(url)}: expected an http:// or https:// URL with a host")


def guess_protocol(url: str) -> str:
    """The protocol a URL most likely speaks, from its path (and api.openai.com with no path)."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/").lower()
    segments = [s for s in path.split("/") if s]
    if path.endswith("/realtime/calls"):
        return "openai"
    if path.endswith("/realtime"):
        return "openai-beta"
    if "whip" in segments:
        return "whip"
    if "whep" in segments:
        return "whep"
    if (parts.hostname or "").lower() == "api.openai.com" and not segments:
        return "openai"
    return "sdp-post"


#: Options every adapter takes (see HttpSignaler).
COMMON_OPTIONS = frozenset({"timeout", "clock", "headers", "http_session", "max_redirects"})


def make_signaler(protocol: str | None, url: str, token: str | None = None, **opts: Any) -> HttpSignaler:
    """The adapter for `protocol` (guessed from the URL when None).

    Common options: timeout, clock, headers, http_session, max_redirects. Protocol options:
    model, session, hangup (openai); model, session (openai-beta); offer_format (sdp-post).
    A caller with one set of options for every protocol may pass them all: options another
    protocol uses are dropped here, so `--model` does not break a WHIP capture."""
    name = protocol or guess_protocol(url)
    try:
        cls = PROTOCOLS[name]
    except KeyError:
        raise ValueError(
            f"unknown signaling protocol {name!r}; expected one of {', '.join(PROTOCOLS)}"
        ) from None
    other = set().union(*(c.protocol_options for c in PROTOCOLS.values())) - cls.protocol_options
    unknown = set(opts) - COMMON_OPTIONS - cls.protocol_options - other
    if unknown:
        raise TypeError(f"make_signaler: unknown option(s) {', '.join(sorted(unknown))}")
    kwargs = {k: v for k, v in opts.items() if k not in other and v is not None}
    return cls(url, token, **kwargs)


__all__ = [
    "PROTOCOLS", "HttpExchange", "HttpSignaler", "OpenAIBetaSignaler", "OpenAISignaler",
    "SdpPostSignaler", "Signaler", "SignalingError", "SignalingResult", "WhepSignaler", "WhipSignaler",
    "check_target", "guess_protocol", "ice_servers_from_links", "make_signaler", "parse_link_headers",
]

"""ICE servers and policy of a probe: parsed and checked before the session, recorded without
credentials, handed to aiortc, and every TURN allocation's outcome kept.

What aiortc 1.16 / aioice 0.13 can do decides what is accepted (anything else is a usage error,
never a silent skip): STUN over UDP (`stun:`), TURN over UDP (`turn:` or `turn:...?transport=udp`),
over TCP (`turn:...?transport=tcp`) and over TLS (`turns:`, `turns:...?transport=tcp`); a
password credential. Not supported: STUN over TLS (`stuns:`), TURN over DTLS
(`turns:...?transport=udp`), OAuth credentials, IPv6 literal hosts in the URL. aioice uses ONE
STUN and ONE TURN server: the first of each kind; later ones are recorded as not used.

A credential is a secret: it is registered with `rtcprobe.redact` the moment it is read, so every
writer scrubs it, and the record of a server (`record`) never holds it, nor the username.

aioice swallows a failed TURN allocation while gathering (the candidate is simply missing), so
`allocations_recorded` wraps aioice's `relayed_candidate` and keeps, per allocation, what came
back: the relayed address, or the STUN error code and reason (401 Unauthorized for a wrong
password), the connection error, or the time it gave up after.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer
from aiortc.rtcconfiguration import RTCIceTransportPolicy
from aiortc.rtcicetransport import parse_stun_turn_uri

from ..errors import InputError, load_json, read_text_file
from ..limits import TURN_PEER_REFUSALS_KEPT
from ..redact import register_secret
from .diagnose import diagnose_turn, turn_peer_note


class IceConfigError(ValueError):
    """A server URL or configuration this probe cannot use; the message never holds a credential."""


@dataclass(frozen=True)
class ServerUrl:
    """One stun:/turn:/turns: URL, parsed; `url` is its canonical spelling, credential-free."""

    scheme: str  # stun, turn, turns
    host: str
    port: int
    transport: str | None  # udp/tcp for TURN, None for STUN

    @property
    def url(self) -> str:
        text = f"{self.scheme}:{self.host}:{self.port}"
        return text + (f"?transport={self.transport}" if self.transport else "")

    @property
    def carrier(self) -> str:
        """What carries the client's packets to the server: udp, tcp or tls."""
        if self.scheme == "turns":
            return "tls"
        return self.transport or "udp"


@dataclass
class IceServer:
    """One URL of `iceServers` (a W3C RTCIceServer's `urls` share its username and credential: kept
    one per URL, in order, since which comes first decides what aioice uses)."""

    url: ServerUrl
    username: str | None = None
    credential: str | None = field(default=None, repr=False)  # a secret: never recorded


@dataclass
class IceConfig:
    """The probe's ICE configuration (W3C RTCConfiguration's iceServers and iceTransportPolicy)."""

    servers: list[IceServer] = field(default_factory=list)
    relay_only: bool = False

    def chosen(self) -> tuple[IceServer | None, IceServer | None]:
        """The servers aioice will use for STUN and for TURN: the first of each kind."""
        stun = next((s for s in self.servers if s.url.scheme == "stun"), None)
        turn = next((s for s in self.servers if s.url.scheme in ("turn", "turns")), None)
        return stun, turn

    def rtc_configuration(self) -> RTCConfiguration:
        """aiortc's configuration: only the URLs aioice uses, so what is recorded is what is used."""
        servers = [RTCIceServer(urls=s.url.url, username=s.username, credential=s.credential)
                   for s in self.chosen() if s is not None]
        policy = RTCIceTransportPolicy.RELAY if self.relay_only else RTCIceTransportPolicy.ALL
        return RTCConfiguration(iceServers=servers, iceTransportPolicy=policy)

    def record(self) -> list[dict[str, Any]]:
        """Each URL as the capture keeps it: credential-free, whether aioice uses it, and why not."""
        used = [s for s in self.chosen() if s is not None]
        out = []
        for server in self.servers:
            is_used = any(server is u for u in used)
            kind = "STUN" if server.url.scheme == "stun" else "TURN"
            out.append({"url": server.url.url, "carrier": server.url.carrier,
                        "username_given": server.username is not None, "credential_given": server.credential is not None,
                        "used": is_used, "note": "" if is_used else
                        f"aioice uses one {kind} server, the first one given; this one is not used"})
        return out

    def urls(self) -> list[str]:
        return [s.url.url for s in self.servers]


# -- parsing ------------------------------------------------------------------------------------

def parse_url(text: str) -> tuple[ServerUrl, str | None, str | None]:
    """A stun:/turn:/turns: URL (RFC 7064, RFC 7065) and the `user:password@` some people put in it,
    returned apart (username, credential) so that the URL kept is credential-free."""
    username = credential = None
    scheme, colon, rest = text.strip().partition(":")
    if "@" in rest:
        userinfo, _, rest = rest.rpartition("@")
        user, sep, password = userinfo.rpartition(":")
        username, credential = (unquote(user), unquote(password)) if sep else (unquote(userinfo), None)
        register_secret(credential)
    shown = f"{scheme}{colon}{rest}"  # quoted in errors: without the userinfo
    if scheme.lower() not in ("stun", "stuns", "turn", "turns") or not colon:
        raise IceConfigError(f"ICE server {shown!r}: expected a stun:, turn: or turns: URL")
    if rest.startswith("//"):
        raise IceConfigError(f"ICE server {shown!r}: stun:/turn: URLs have no '//' (e.g. turn:host:3478?transport=udp)")
    if rest.startswith("["):
        raise IceConfigError(f"ICE server {shown!r}: IPv6 literal hosts are not supported by aiortc's ICE URL parser; "
                             "use a host name")
    try:
        parsed = parse_stun_turn_uri(f"{scheme.lower()}:{rest}")
    except ValueError:
        host = rest.partition("?")[0].partition(":")[0]  # not what follows: it may be a password without '@'
        raise IceConfigError(f"ICE server '{scheme}:{host}...': expected {scheme.lower()}:HOST[:PORT][?transport=udp|tcp]") from None
    url = ServerUrl(parsed["scheme"], parsed["host"], parsed["port"], parsed.get("transport"))
    if url.scheme == "stuns":
        raise IceConfigError(f"ICE server {shown!r}: STUN over TLS (stuns:) is not supported by aioice; use stun:")
    if url.transport not in (None, "udp", "tcp"):
        raise IceConfigError(f"ICE server {shown!r}: transport must be udp or tcp")
    if url.scheme == "turns" and url.transport == "udp":
        raise IceConfigError(f"ICE server {shown!r}: TURN over DTLS (turns: with transport=udp) is not supported by aioice; "
                             "use turns: over TCP (TLS) or turn: over UDP")
    return url, username, credential


def from_arguments(urls: list[str], username: str | None, credential: str | None,
                   relay_only: bool, config_file: str | None = None) -> IceConfig:
    """The configuration of `--ice-server`, `--ice-username`, `--ice-credential`, `--ice-config`,
    `--relay-only`: the file's servers first, then the URLs given one by one (which share the
    username and credential given, unless a URL carries its own)."""
    register_secret(credential)
    config = load_config(config_file) if config_file else IceConfig()
    for text in urls:
        url, user, password = parse_url(text)
        config.servers.append(IceServer(url, user if user is not None else username,
                                        password if password is not None else credential))
    config.relay_only = config.relay_only or relay_only
    check(config)
    return config


def check(config: IceConfig) -> None:
    """What aioice needs: a TURN server's username and credential; a TURN server for relay-only."""
    _, turn = config.chosen()
    if turn is not None and (turn.username is None or turn.credential is None):
        raise IceConfigError(f"{turn.url.url}: a TURN server needs --ice-username and --ice-credential "
                             "(or username and credential in --ice-config)")
    if config.relay_only and turn is None:
        raise IceConfigError("--relay-only needs a TURN server (--ice-server turn:HOST:PORT or --ice-config): "
                             "with the relay policy no other candidate is gathered")


def load_config(path: str | Path) -> IceConfig:
    """A W3C RTCConfiguration as JSON: `{"iceServers": [{"urls": [...], "username", "credential"}],
    "iceTransportPolicy": "all"|"relay"}`. Errors name the file and the key, never a credential."""
    source = str(path)
    value = load_json(read_text_file(path, "a JSON RTCConfiguration"), source)

    def bad(where: str, expected: str) -> InputError:
        return InputError(f"{where}: expected {expected}", source)

    if not isinstance(value, dict):
        raise bad("the document", 'a JSON object such as {"iceServers": [{"urls": ["turn:HOST:3478"]}]}')
    servers = value.get("iceServers", [])
    if not isinstance(servers, list):
        raise bad("iceServers", "a list of objects")
    policy = value.get("iceTransportPolicy", "all")
    if policy not in ("all", "relay"):
        raise bad("iceTransportPolicy", '"all" or "relay"')
    config = IceConfig(relay_only=policy == "relay")
    for i, entry in enumerate(servers):
        where = f"iceServers[{i}]"
        if not isinstance(entry, dict):
            raise bad(where, "an object with urls, username and credential")
        urls = entry.get("urls", entry.get("url"))  # `url`: the pre-2013 spelling some services still send
        urls = [urls] if isinstance(urls, str) else urls
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise bad(f"{where}.urls", "a URL string or a non-empty list of URL strings")
        credential, username = entry.get("credential"), entry.get("username")
        if credential is not None and not isinstance(credential, str):
            raise bad(f"{where}.credential", "a string")  # its value is never quoted
        register_secret(credential)
        if username is not None and not isinstance(username, str):
            raise bad(f"{where}.username", "a string")
        if entry.get("credentialType", "password") != "password":
            raise bad(f"{where}.credentialType", '"password" (aioice supports no other credential type)')
        for j, text in enumerate(urls):  # one entry per URL, in order: which is first decides what is used
            try:
                url, user, password = parse_url(text)
            except IceConfigError as exc:
                raise InputError(f"{where}.urls[{j}]: {exc}", source) from None
            # `turn:user@host` or `turn:user:password@host`, as older configurations write them
            config.servers.append(IceServer(url, user if user is not None else username,
                                            password if password is not None else credential))
    return config


# -- TURN allocations, as aioice made them ---------------------------------------------------------

@dataclass
class Allocation:
    """One TURN allocation aioice attempted while gathering: its outcome, in the TURN server's words."""

    server: str  # host:port of the TURN server
    carrier: str  # udp, tcp or tls
    ok: bool
    elapsed: float  # seconds from the request to the outcome
    relayed: str | None = None  # host:port the TURN server relays from
    error_code: int | None = None  # the STUN ERROR-CODE of a refusal (401, 403, 486, ...)
    reason: str = ""  # its reason phrase, or what happened instead (refused, timed out, TLS)
    #: After the allocation: the TURN server's refusals to relay to a peer (ChannelBind), in its words
    peer_refusals: list[str] = field(default_factory=list)

    def as_record(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if v is not None and v != "" and v != []}


_allocations: ContextVar[list[Allocation] | None] = ContextVar("rtcprobe_turn_allocations", default=None)
_original_relayed_candidate = aioice.ice.relayed_candidate


def _outcome(exc: BaseException) -> tuple[int | None, str]:
    response = getattr(exc, "response", None)
    if response is not None and "ERROR-CODE" in response.attributes:
        code, reason = response.attributes["ERROR-CODE"]
        return int(code), str(reason)
    if isinstance(exc, asyncio.CancelledError):
        return None, "no allocation within 5 s, when aioice stops waiting for the TURN server"
    if isinstance(exc, ConnectionRefusedError):
        return None, "connection refused"
    text = str(exc) or type(exc).__name__
    return None, f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text


async def _recording_relayed_candidate(**kwargs: Any) -> Any:
    """aioice's `relayed_candidate`, with its outcome kept for the probe session that gathers."""
    sink = _allocations.get()
    if sink is None:
        return await _original_relayed_candidate(**kwargs)
    host, port = kwargs["turn_server"]
    carrier = "tls" if kwargs.get("turn_ssl") else kwargs.get("turn_transport", "udp")
    start = time.monotonic()
    try:
        candidate, protocol = await _original_relayed_candidate(**kwargs)
    except BaseException as exc:
        code, reason = _outcome(exc)
        sink.append(Allocation(f"{host}:{port}", carrier, False, round(time.monotonic() - start, 3),
                               error_code=code, reason=reason))
        raise
    allocation = Allocation(f"{host}:{port}", carrier, True, round(time.monotonic() - start, 3),
                            relayed=f"{candidate.host}:{candidate.port}")
    sink.append(allocation)
    _keep_peer_refusals(protocol, allocation)
    return candidate, protocol


def _keep_peer_refusals(protocol: Any, allocation: Allocation) -> None:
    """aioice hands a failed ChannelBind (a TURN server that will not relay to the peer's address:
    403 Forbidden) to the protocol's `error_received`, which only logs it; keep it as well."""
    original = protocol.error_received

    def error_received(exc: Exception) -> None:
        code, reason = _outcome(exc)
        said = f"{code} {reason}" if code else reason
        if said not in allocation.peer_refusals and len(allocation.peer_refusals) < TURN_PEER_REFUSALS_KEPT:
            allocation.peer_refusals.append(said)
        original(exc)

    protocol.error_received = error_received


@contextlib.contextmanager
def allocations_recorded() -> Iterator[list[Allocation]]:
    """Inside the block, every TURN allocation this task's gathering makes is appended to the list
    (aioice's gathering tasks inherit the context). Process-wide patch, inert outside such a block."""
    aioice.ice.relayed_candidate = _recording_relayed_candidate
    found: list[Allocation] = []
    token = _allocations.set(found)
    try:
        yield found
    finally:
        _allocations.reset(token)


def turn_failure(config: IceConfig, allocations: list[Allocation]) -> str:
    """Why the TURN server configured gave no relayed candidate (see `diagnose_turn`); "" if it did."""
    _, turn = config.chosen()
    if turn is None:
        return ""
    return diagnose_turn(turn.url.url, config.relay_only, [a.as_record() for a in allocations])


def servers_event(config: IceConfig, allocations: list[Allocation]) -> dict[str, Any]:
    """Fields of the `ice_servers` event (source "options"): the URLs (credential-free), each one's
    use, the policy, and the allocations. `applied` is true only when every TURN allocation made
    a relayed address."""
    note = turn_failure(config, allocations)
    return {"source": "options", "urls": config.urls(), "applied": not note, "note": note,
            "policy": "relay" if config.relay_only else "all", "servers": config.record(),
            "allocations": [a.as_record() for a in allocations]}


def peer_refusal_note(allocations: list[Allocation]) -> str:
    """What the TURN server refused after allocating (see `turn_peer_note`); "" if nothing."""
    return turn_peer_note([a.as_record() for a in allocations])

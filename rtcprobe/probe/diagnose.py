"""One-line diagnoses of failed connections, from what aioice and aiortc saw."""

from __future__ import annotations

from typing import Any

from ..sdp import Candidate

#: What to do when the loopback policy left ICE without the target's candidates.
AVOID_LOOPBACK_POLICY = ("to probe it, give the target URL with a non-loopback address of this host (rtcprobe then "
                         "uses every interface), or have the target advertise a 127.0.0.1 or ::1 candidate")


def _pairs(connection: Any) -> list[Any]:
    return list(getattr(connection, "_check_list", []) or [])


def ice_pairs(connection: Any) -> list[dict[str, Any]]:
    """The candidate pairs aioice formed, with their check state (for the capture and the diagnosis)."""
    out = []
    for pair in _pairs(connection):
        local, remote = pair.local_candidate, pair.remote_candidate
        out.append({
            "local": f"{local.host}:{local.port}/{local.transport.lower()}",
            "remote": f"{remote.host}:{remote.port}/{remote.transport.lower()}",
            "state": pair.state.name.lower(),
            "nominated": bool(pair.nominated),
        })
    return out


def _endpoint(c: Candidate) -> str:
    host = f"[{c.address}]" if ":" in c.address else c.address
    return f"{host}:{c.port}/{c.transport}"


def ignored_note(ignored: list[Candidate]) -> str:
    """What the loopback policy dropped, and how to avoid it; "" when it dropped nothing."""
    if not ignored:
        return ""
    shown = ", ".join(_endpoint(c) for c in ignored[:3]) + (f" (+{len(ignored) - 3} more)" if len(ignored) > 3 else "")
    return (f"rtcprobe ignored {len(ignored)} candidate(s) of the target ({shown}) because they are not loopback "
            f"addresses and the target URL is on loopback; {AVOID_LOOPBACK_POLICY}")


def diagnose_ice(connection: Any, remote_candidates: list[Candidate], waited: float | None = None,
                 ignored: list[Candidate] | None = None) -> str:
    """Why ICE failed (or, with `waited`, had not connected in that many seconds): which pairs were
    tried and what came back, or why none could be formed. `ignored`: remote candidates rtcprobe
    did not use on purpose (the loopback policy), which the diagnosis must name."""
    lead = "ICE failed" if waited is None else f"no ICE connectivity within {waited:g} s"
    ignored = list(ignored or [])
    note = ignored_note(ignored)
    pairs = ice_pairs(connection)
    used = [c for c in remote_candidates if c not in ignored]
    udp = [c for c in used if c.transport == "udp"]
    tcp = [c for c in used if c.transport == "tcp"]
    if not remote_candidates:
        return f"{lead}: the answer carried no candidates and none were trickled"
    if ignored and not used and not pairs:
        return f"{lead}: {note}; no connectivity check came from the target over loopback either"
    if not udp and tcp and not pairs:
        return (f"{lead}: the target offers only TCP candidates ({len(tcp)}, e.g. "
                f"{tcp[0].address}:{tcp[0].port} tcptype {tcp[0].tcptype or '?'}); aiortc/aioice check UDP only, "
                "so this target is not reachable by this probe (a browser may still connect over ICE-TCP)"
                + (f"; {note}" if note else ""))
    if not pairs:
        families = sorted({c.address_family for c in udp})
        return (f"{lead}: no candidate pair could be formed with the remote UDP candidates ({', '.join(families)})"
                + (f"; {note}" if note else ""))
    by_state: dict[str, int] = {}
    for p in pairs:
        by_state[p.get("state", "?")] = by_state.get(p.get("state", "?"), 0) + 1
    tried = "; ".join(f"{p['local']} → {p['remote']}: {p['state']}" for p in pairs[:4])
    more = f" (+{len(pairs) - 4} more)" if len(pairs) > 4 else ""
    skipped = f"; {len(tcp)} TCP candidate(s) not checked (aioice checks UDP only)" if tcp else ""
    states = ", ".join(f"{n} {s}" for s, n in sorted(by_state.items()))
    pending = by_state.get("in_progress", 0) + by_state.get("waiting", 0) + by_state.get("frozen", 0)
    if by_state.get("succeeded"):
        answer = "a STUN response came back on the succeeded pair(s), yet ICE did not complete"
    elif pending:
        answer = "no STUN response had come back yet"
    else:
        answer = "no STUN response came back"
    return f"{lead} after {len(pairs)} pair(s) ({states}): {tried}{more}; {answer}{skipped}" + (
        f"; {note}" if note else "")


#: TURN error codes (RFC 8489 §14.8, RFC 8656 §18) and what they mean for the person probing.
TURN_ERRORS = {
    400: "the TURN server could not parse the request",
    401: "the TURN server refused the username or credential",
    403: "the TURN server forbids this allocation (policy or credential scope)",
    420: "the TURN server does not understand a required attribute",
    437: "allocation mismatch: an allocation already exists for this 5-tuple",
    438: "stale nonce: the TURN server's nonce expired and the retry failed too",
    440: "address family not supported by the TURN server",
    441: "wrong credentials for this allocation",
    442: "the TURN server does not support this transport",
    486: "the user's allocation quota on the TURN server is used up",
    500: "the TURN server had an internal error",
    508: "the TURN server has no capacity for another allocation",
}


def diagnose_turn(url: str, relay_only: bool, allocations: list[dict[str, Any]]) -> str:
    """Why a TURN server gave no relayed candidate, from the allocations aioice attempted (records
    of `ice_servers.Allocation`): the server URL (credential-free), the carrier, the STUN error
    code and reason or what happened instead; "" when every allocation succeeded."""
    if not allocations:
        return f"no TURN allocation was attempted at {url}"
    failed = [a for a in allocations if not a.get("ok")]
    if not failed:
        return ""
    first = failed[0]
    code = first.get("error_code")
    said = f"{code} {first.get('reason', '')}".strip() if code else first.get("reason", "no reason given")
    meaning = TURN_ERRORS.get(code or 0, "")
    count = (f"{len(failed)} of {len(allocations)} TURN allocations failed" if len(allocations) > 1
             else "the TURN allocation failed")
    text = f"{count} at {url} (over {first.get('carrier', '?')}): {said}" + (f": {meaning}" if meaning else "")
    if relay_only and len(failed) == len(allocations):
        text += "; with --relay-only (iceTransportPolicy relay) the probe has no candidate to connect with"
    return text


def turn_peer_note(allocations: list[dict[str, Any]]) -> str:
    """Why relayed checks got no answer when the TURN server refused to relay to the target
    (records of `ice_servers.Allocation` with `peer_refusals`); "" when it refused nothing."""
    refusals = sorted({r for a in allocations for r in a.get("peer_refusals", [])})
    if not refusals:
        return ""
    return (f"the TURN server refused to relay to the target ({', '.join(refusals)} on a channel binding): "
            "TURN servers may deny private or loopback peer addresses (coturn does, unless "
            "--allow-loopback-peers, or with --denied-peer-ip)")

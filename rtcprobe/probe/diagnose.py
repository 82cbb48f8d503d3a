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

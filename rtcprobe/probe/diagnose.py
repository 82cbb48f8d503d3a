"""One-line diagnoses of failed connections, from what aioice and aiortc saw."""

from __future__ import annotations

from typing import Any

from ..sdp import Candidate


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


def diagnose_ice(connection: Any, remote_candidates: list[Candidate], waited: float | None = None) -> str:
    """Why ICE failed (or, with `waited`, had not connected in that many seconds): which pairs were
    tried and what came back, or why none could be formed."""
    lead = "ICE failed" if waited is None else f"no ICE connectivity within {waited:g} s"
    pairs = ice_pairs(connection)
    udp = [c for c in remote_candidates if c.transport == "udp"]
    tcp = [c for c in remote_candidates if c.transport == "tcp"]
    if not remote_candidates:
        return f"{lead}: the answer carried no candidates and none were trickled"
    if not udp and tcp:
        return (f"{lead}: the target offers only TCP candidates ({len(tcp)}, e.g. "
                f"{tcp[0].address}:{tcp[0].port} tcptype {tcp[0].tcptype or '?'}); aiortc/aioice check UDP only, "
                "so this target is not reachable by this probe (a browser may still connect over ICE-TCP)")
    if not pairs:
        families = sorted({c.address_family for c in udp})
        return f"{lead}: no candidate pair could be formed with the remote UDP candidates ({', '.join(families)})"
    by_state: dict[str, int] = {}
    for p in pairs:
        by_state[p.get("state", "?")] = by_state.get(p.get("state", "?"), 0) + 1
    tried = "; ".join(f"{p['local']} → {p['remote']}: {p['state']}" for p in pairs[:4])
    more = f" (+{len(pairs) - 4} more)" if len(pairs) > 4 else ""
    skipped = f"; {len(tcp)} TCP candidate(s) not checked (aioice checks UDP only)" if tcp else ""
    states = ", ".join(f"{n} {s}" for s, n in sorted(by_state.items()))
    pending = by_state.get("in_progress", 0) + by_state.get("waiting", 0) + by_state.get("frozen", 0)
    answer = "no STUN response had come back yet" if pending else "no STUN response came back"
    return f"{lead} after {len(pairs)} pair(s) ({states}): {tried}{more}; {answer}{skipped}"

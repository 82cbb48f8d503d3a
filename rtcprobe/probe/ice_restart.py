"""ICE credentials renewed in place: what an ICE restart (RFC 8445 §9, RFC 9725 §4.4) can be
with aiortc, which has no restart of its own.

aiortc keeps one aioice agent per transport for the whole session and never re-gathers; what
this does is swap the agent's local and remote ufrag/pwd, so that every later check and consent
request (RFC 7675) uses the new ones. Candidates are not gathered again and the selected pair
is kept: callers say so wherever they report a restart."""

from __future__ import annotations

from typing import Any

from aiortc import RTCPeerConnection

#: What a restart through rtcprobe is, said once for the capture, the summary and serve's log.
RESTART_SCOPE = ("ICE credentials renewed on the aioice agent (aiortc cannot restart ICE): "
                 "candidates not gathered again, the selected pair kept")


def ice_agents(pc: RTCPeerConnection) -> list[Any]:
    """The aioice agents of a peer connection, once each (a bundle shares one)."""
    transports = [t.receiver.transport for t in pc.getTransceivers()]
    if pc.sctp is not None:
        transports.append(pc.sctp.transport)
    agents: list[Any] = []
    for dtls in transports:
        agent = getattr(getattr(dtls, "transport", None), "_connection", None)
        if agent is not None and agent not in agents:
            agents.append(agent)
    return agents


def renew_credentials(pc: RTCPeerConnection, local: tuple[str, str],
                      remote: tuple[str, str]) -> int:
    """Put the new local and remote (ufrag, pwd) on every agent; the number of agents changed
    (0: the peer connection has none, or aioice no longer keeps them where this looks)."""
    changed = 0
    for agent in ice_agents(pc):
        if not hasattr(agent, "_local_username") or not hasattr(agent, "_local_password"):
            continue
        agent._local_username, agent._local_password = local
        agent.remote_username, agent.remote_password = remote
        changed += 1
    return changed

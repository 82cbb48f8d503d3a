"""Selected-pair changes: every time ICE starts sending on another candidate pair.

The `ice_pairs` event is a snapshot at connect time. A peer may nominate another pair later
(seen with third-party peers: ::1 first, 127.0.0.1 a moment after), and then every packet goes
over the new pair. aioice keeps the pair it sends on in `Connection._nominated` (component ->
pair) and writes it there on every nomination, ours (controlling) or the peer's (controlled).
`watch_selected_pairs` swaps that dict, on one connection instance, for one that reports each
write whose pair differs from the previous one: exact, without polling.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from aiortc import RTCPeerConnection

from ..capture import events
from .taps import peer_connection_transports

logger = logging.getLogger(__name__)

PairSink = Callable[[dict[str, Any]], None]


def endpoint(candidate: Any) -> str:
    """`host:port/udp`, as `ice_pairs` writes a candidate."""
    return f"{candidate.host}:{candidate.port}/{candidate.transport.lower()}"


def selected_pair_event(component: int, pair: Any, previous: Any | None) -> dict[str, Any]:
    """The capture `selected_pair` event (without `t`) for `pair` replacing `previous`."""
    local, remote = pair.local_candidate, pair.remote_candidate
    return {
        "event": events.SELECTED_PAIR, "component": component,
        "local": endpoint(local), "remote": endpoint(remote),
        "local_type": local.type, "remote_type": remote.type,
        "previous": None if previous is None else {
            "local": endpoint(previous.local_candidate), "remote": endpoint(previous.remote_candidate)},
    }


def _same(a: Any, b: Any) -> bool:
    return a is b or (endpoint(a.local_candidate), endpoint(a.remote_candidate)) == (
        endpoint(b.local_candidate), endpoint(b.remote_candidate))


class _SelectedPairs(dict):
    """aioice's `_nominated`, reporting every change of a component's pair to `sink`."""

    def __init__(self, initial: dict[int, Any], sink: PairSink) -> None:
        super().__init__(initial)
        self.sink = sink

    def __setitem__(self, component: int, pair: Any) -> None:
        previous = self.get(component)
        super().__setitem__(component, pair)
        if previous is not None and _same(previous, pair):
            return
        try:
            self.sink(selected_pair_event(component, pair, previous))
        except Exception:  # a recording bug must not break ICE
            logger.exception("selected pair sink failed")


def watch_selected_pairs(pc: RTCPeerConnection, sink: PairSink) -> int:
    """Report selected-pair changes of every ICE connection `pc` has now (call after
    setLocalDescription, before ICE checks start); returns how many connections are watched.
    Pairs already selected are reported at once. Watching twice is harmless."""
    watched = 0
    for transport in peer_connection_transports(pc):
        connection = getattr(transport.transport, "_connection", None)
        current = getattr(connection, "_nominated", None)
        if connection is None or not isinstance(current, dict):
            continue
        watched += 1
        if isinstance(current, _SelectedPairs):
            continue
        connection._nominated = _SelectedPairs({}, sink)
        for component, pair in current.items():
            connection._nominated[component] = pair
    return watched

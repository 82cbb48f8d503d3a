"""`--lite` captures (rtcprobe load): stats samples and RTCP counts, not one event per RTCP packet.

Why: under load the per-packet `rtcp` events are most of a capture's lines and of its writing cost,
while a load summary needs only set-up times, loss and RTT (the stats samples). The collector still
counts every RTCP packet by type; a lite capture ends with one `rtcp_counts` event holding them, and
its header says `lite: true`, so that no view reads the missing `rtcp` events as "no RTCP".
"""

from __future__ import annotations

from typing import Any

from ..capture import events as ev

#: The one event of a lite capture that stands for its `rtcp` events: packets by type, per direction.
RTCP_COUNTS = "rtcp_counts"


def skipped(lite: bool, event: str) -> bool:
    """Whether a lite capture leaves this packet event out (`rtp_first` and the rest are kept)."""
    return lite and event == ev.RTCP


def counts_event(collector: Any) -> dict[str, Any]:
    """The closing `rtcp_counts` event's fields, from the collector's own counts."""
    return {"counts": collector.rtcp_counts()}

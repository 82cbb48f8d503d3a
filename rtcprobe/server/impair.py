"""Network impairment on the reference target's side (`rtcprobe serve --impair SPEC`): the engine of
`capture --impair` (rtcprobe.net) under this side's aioice sockets, one network per session, its
schedule on the session's own clock (t = 0 when the offer is answered). "up" is what the target
sends, "down" what it receives.

The target writes no capture, so what the network did is kept on the session (`ServedImpairment`:
every change, the latest counts, the summary) and logged: each change, and the summary at close.

`--loss-percent X` and `--delay-ms D` are aliases, kept for their old meaning where the engine can:
`up:rtploss=X%` drops outbound RTP only (RTCP, STUN and DTLS pass, so NACK/RTX stay observable, as
before); `up:delay=Dms` now holds every outbound datagram, STUN and DTLS too, as a real path does
(before, only RTP and RTCP waited), so the ICE round trip grows by D as well.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ..analyze.impairment import direction_truth
from ..errors import InputError
from ..net.record import Impairment, schedule_from
from ..net.spec import DIRECTIONS, ScheduledSpec, SpecError, parse_spec

logger = logging.getLogger(__name__)


def _plain(value: float) -> str:
    """A number as SPEC text without an exponent (`1e-05` is not in the grammar)."""
    return format(value, "f").rstrip("0").rstrip(".") or "0"


def alias_spec(loss_percent: float, delay_ms: float) -> str | None:
    """The SPEC that `--loss-percent`/`--delay-ms` stand for; None when both are 0."""
    items = ([f"up:rtploss={_plain(loss_percent)}%"] if loss_percent else []) + (
        [f"up:delay={_plain(delay_ms)}ms"] if delay_ms else [])
    return ",".join(items) or None


def served_schedule(impair: list[str], schedule_file: str | None, loss_percent: float,
                    delay_ms: float) -> list[ScheduledSpec]:
    """The schedule every session gets, from `--impair`, `--impair-schedule` or the aliases.
    Raises ValueError naming the bad part (the CLI's usage error, exit 2)."""
    alias = alias_spec(loss_percent, delay_ms)
    if alias is not None and (impair or schedule_file):
        raise ValueError("--loss-percent/--delay-ms are aliases of --impair " + alias
                         + ": give either them or --impair/--impair-schedule")
    if alias is not None:
        try:
            return [ScheduledSpec(0.0, parse_spec(alias)[0])]
        except SpecError as exc:
            raise ValueError(f"--loss-percent/--delay-ms (as --impair {alias}): {exc}") from None
    try:
        return schedule_from(impair, schedule_file)
    except InputError as exc:  # the schedule file's own guard names file and line
        raise ValueError(str(exc)) from None


class ServedImpairment:
    """One session's network and what it did: `sets` (each change as recorded), `counts` (the
    latest running counts) and `summary` (at close), per direction, as the capture's
    `impairment` events are; each change and the summary are logged."""

    def __init__(self, session_id: str, schedule: list[ScheduledSpec], seed: int) -> None:
        self.session_id = session_id
        self.sets: list[dict[str, Any]] = []
        self.counts: dict[str, Any] | None = None
        self.summary: dict[str, Any] | None = None
        started = time.monotonic()
        self._clock = lambda: time.monotonic() - started
        self.engine = Impairment(schedule, seed, self._clock, self._record)

    def attach(self, pc: Any) -> ServedImpairment:
        """Before any check: the seam wraps each ICE transport's sockets when gathering completes."""
        self.engine.attach(pc)
        return self

    def close(self) -> None:
        """After the peer connection closed: its last datagrams crossed the network too."""
        self.engine.close()

    def _record(self, _kind: str, **fields: Any) -> None:
        event = {"t": round(self._clock(), 6), **fields}
        action = fields.get("action")
        if action == "set":
            self.sets.append(event)
            logger.info("session %s: impairment %s from t=%gs (seed %s; up = what the target sends)",
                        self.session_id, fields.get("spec"), fields.get("at", 0.0), fields.get("seed"))
        elif action == "counts":
            self.counts = event
        elif action == "summary":
            self.summary = event
            for name in DIRECTIONS:
                truth = direction_truth(name, fields.get(name), final=True)
                if truth is not None:
                    logger.info("session %s: impairment %s (%s): %s", self.session_id, name,
                                "target sends" if name == "up" else "target receives", truth.did)


def session_impairment(session_id: str, schedule: list[ScheduledSpec], seed: int,
                       pc: Any) -> ServedImpairment | None:
    """The session's network on `pc` (call after setRemoteDescription); None without a schedule."""
    return ServedImpairment(session_id, schedule, seed).attach(pc) if schedule else None

"""One session's impairment over time: the schedule applied at its times, and what the network
did written to the capture as `impairment` events (see rtcprobe.capture.events).

Used by the probe (`capture --impair`) through `from_options`; the reference target can use the
same object: `Impairment(schedule, seed, clock, record).attach(pc)` after its transceivers exist,
then `close()` when the peer connection closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ..capture import events as ev
from ..errors import InputError
from ..probe.status import ProbeFailure
from .seam import Network
from .spec import DIRECTIONS, ScheduledSpec, SpecError, parse_impair_options, read_schedule

Record = Callable[..., None]


def schedule_from(impair: list[str], schedule_file: str | None) -> list[ScheduledSpec]:
    """Repeated `--impair` and `--impair-schedule FILE` as one schedule. Raises SpecError (or the
    input guard's InputError for the file) naming the bad part."""
    entries = parse_impair_options(impair) if impair else []
    if schedule_file:
        entries += read_schedule(schedule_file)
    entries.sort(key=lambda e: e.at)
    for a, b in zip(entries, entries[1:], strict=False):
        if a.at == b.at:
            raise SpecError(f"--impair and --impair-schedule: two entries for t={a.at:g}s")
    return entries


class Impairment:
    """Applies `schedule` on the capture clock and records every change, the running counts every
    `interval` seconds and a summary at `close()`."""

    def __init__(self, schedule: list[ScheduledSpec], seed: int, clock: Callable[[], float],
                 record: Record, interval: float = 1.0) -> None:
        self.schedule = schedule
        self.network = Network(seed)
        self._clock = clock
        self._record = record
        self._interval = interval
        self._handles: list[asyncio.TimerHandle] = []
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def from_options(cls, options: Any, clock: Callable[[], float], record: Record) -> Impairment | None:
        """For a ProbeOptions with `impair`/`impair_schedule`/`seed`; None when there is none."""
        impair, schedule_file = getattr(options, "impair", []), getattr(options, "impair_schedule", None)
        if not impair and not schedule_file:
            return None
        try:  # the CLI checked them already; a caller of the Python API may not have
            schedule = schedule_from(impair, schedule_file)
        except (SpecError, InputError) as exc:
            raise ProbeFailure("error", f"impairment: {exc}") from None
        return cls(schedule, options.seed, clock, record, options.stats_interval)

    def attach(self, pc: Any) -> Impairment:
        """Install the seam on `pc`'s ICE transports and start the schedule."""
        loop = asyncio.get_running_loop()
        now = self._clock()
        for entry in self.schedule:
            if entry.at <= now:
                self._apply(entry)
            else:
                self._handles.append(loop.call_later(entry.at - now, self._apply, entry))
        self.network.attach_peer_connection(pc)
        self._task = asyncio.ensure_future(self._periodic())
        return self

    def _apply(self, entry: ScheduledSpec) -> None:
        self.network.apply(entry.spec)
        fields: dict[str, Any] = {"action": "set", "at": entry.at, "spec": entry.spec.text,
                                  "seed": self.network.seed}
        for name in DIRECTIONS:
            conditions = entry.spec.direction(name)
            pipe = self.network.pipes[name]
            fields[name] = {**conditions.to_event(), "queue_bytes": pipe.queue_limit}
        self._record(ev.IMPAIRMENT, **fields)

    def counts(self) -> dict[str, dict[str, Any]]:
        return {name: self.network.pipes[name].counts.to_event() for name in DIRECTIONS}

    async def _periodic(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self._record(ev.IMPAIRMENT, action="counts", **self.counts())

    def close(self) -> None:
        """Stop the schedule, give the sockets back, record the summary."""
        for handle in self._handles:
            handle.cancel()
        if self._task is not None:
            self._task.cancel()
        if self.network.closed:
            return
        self.network.close()
        summary = self.counts()
        for name in DIRECTIONS:
            summary[name].update(self.network.pipes[name].drops_event())
        self._record(ev.IMPAIRMENT, action="summary", **summary)

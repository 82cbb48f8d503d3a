"""The one worker function: a share of the load's sessions in one asyncio loop, ramped and capped.

Local worker processes and Ray tasks both call `run_worker` (backends.py); nothing else runs a load
session. Each session is a `ProbeSession` as `capture` runs it, writing its own capture; its figures
are read back from that capture (outcome.py), so a load summary and `report` agree by construction.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..capture import load as load_capture
from ..limits import LOAD_MAX_RETRY_AFTER
from ..probe.options import ProbeOptions
from ..probe.session import ProbeSession
from .outcome import Outcome, outcome_of

#: progress callback: ("up", index) when a session starts, ("done", Outcome dict) when it ends
Progress = Callable[[tuple[str, Any]], None]


@dataclass
class WorkerJob:
    """One worker's share: session indices with their start offsets (s after `t0`, a wall-clock time)."""

    template: ProbeOptions  # every session's options; `output` is replaced per session
    indices: list[int]
    starts: list[float]
    concurrency: int  # sessions of this worker at once
    t0: float  # time.time() at which offset 0 falls: shares of one ramp start together
    out_dir: str | None  # write captures here; None: to a temporary directory, returned as text (Ray)
    retry_after_max: float = LOAD_MAX_RETRY_AFTER


def capture_name(index: int, retry: bool = False) -> str:
    return f"session-{index:05d}{'-retry' if retry else ''}.jsonl"


def run_worker(job: WorkerJob, progress: Progress | None = None) -> dict[str, Any]:
    """Run the share; return {"outcomes": [Outcome dicts], "captures": {name: text}} (captures only
    when `job.out_dir` is None, for a driver on another machine to write)."""
    if job.out_dir is not None:
        return {"outcomes": asyncio.run(_run_all(job, Path(job.out_dir), progress)), "captures": {}}
    with tempfile.TemporaryDirectory(prefix="rtcprobe-load-") as tmp:
        outcomes = asyncio.run(_run_all(job, Path(tmp), progress))
        captures = {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(tmp).glob("*.jsonl"))}
    return {"outcomes": outcomes, "captures": captures}


async def _run_all(job: WorkerJob, out_dir: Path, progress: Progress | None) -> list[dict[str, Any]]:
    report = progress or (lambda item: None)
    gate = asyncio.Semaphore(max(job.concurrency, 1))

    async def one(index: int, start: float) -> dict[str, Any]:
        await asyncio.sleep(max(0.0, job.t0 + start - time.time()))
        async with gate:
            report(("up", index))
            outcome = await _session(job.template, out_dir, index, retry=False)
            if outcome.retry_after is not None and outcome.retry_after <= job.retry_after_max:
                await asyncio.sleep(outcome.retry_after)  # the slot stays taken: the cap holds during the wait
                first = outcome
                outcome = await _session(job.template, out_dir, index, retry=True)
                outcome.retried = True
                if outcome.retry_after is not None:  # busy again: counted busy, with the first answer's wait
                    outcome.failure = first.failure
            result = outcome.to_dict()
            report(("done", result))
            return result

    return list(await asyncio.gather(*(one(i, s) for i, s in zip(job.indices, job.starts, strict=True))))


async def _session(template: ProbeOptions, out_dir: Path, index: int, retry: bool) -> Outcome:
    name = capture_name(index, retry)
    options = dataclasses.replace(template, output=out_dir / name)
    result = await ProbeSession(options).run()
    try:
        return outcome_of(load_capture(result.path), index, name)
    except Exception as exc:  # noqa: BLE001 - a capture that cannot be read is a failed session, said why
        return Outcome(index, name, failure="error", diagnosis=f"capture not readable: {exc}")

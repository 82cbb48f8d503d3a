"""One watch run: a capture (the same ProbeSession as `capture`), optionally the matrix, compared
with the baseline or the previous run; the schedule around it; the alert and `--on-change`."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .. import interrupts
from ..analyze.diff import diff
from ..capture import load
from ..capture.model import Capture
from ..commands.assess import Expectation, assess
from ..matrix.result import SUFFIX, diff_matrices, load_matrix, write_matrix
from ..matrix.runner import run_matrix
from ..matrix.variants import Variant
from ..probe.options import ProbeOptions
from ..probe.session import ProbeSession
from .history import History, RunRecord, new_stamp

EVERY = re.compile(r"(\d+(?:\.\d+)?)(s|m|h|d)")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
INTERRUPTED = "interrupted"  # a capture stopped by our own signal says nothing about the target


def parse_every(text: str) -> float:
    """`1h`, `30m`, `90s`, `1h30m` -> seconds; ValueError naming what is expected."""
    parts = EVERY.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text or sum(float(n) * UNIT[u] for n, u in parts) <= 0:
        raise ValueError(f"--every: expected a period such as 1h, 30m, 90s or 1h30m, got {text!r}")
    return sum(float(n) * UNIT[u] for n, u in parts)


def compare(before: Capture, after: Capture) -> list[str]:
    """What changed in the service between two captures (a pure function): how the capture ended,
    and the answer's semantic diff (candidate table, codecs, extensions, ufrag shape ...)."""
    out = []
    if before.reason != after.reason and INTERRUPTED not in (before.reason, after.reason):  # a signal is ours
        out.append(f"capture: ended {before.reason} → {after.reason}" + (f" ({after.diagnosis})" if after.diagnosis else ""))
    if before.answer is None or after.answer is None:
        return out
    result = diff(before.negotiation, after.negotiation, side="answer", labels=("before", "after"))
    out += [f"candidates: {row.field} {row.a} → {row.b}" for row in result.candidate_table
            if row.changed and not row.volatile]
    out += [change.summary for change in result.changes]
    return out


@dataclass
class WatchPlan:
    """What every run does: the probe's options, the comparison, the matrix, the expectations."""

    options: ProbeOptions
    history: History
    baseline: Path | None = None
    variants: list[Variant] | None = None  # --matrix: these variants each run
    expectations: list[Expectation] = field(default_factory=list)
    unmeasured: str = "fail"


async def run_once(plan: WatchPlan) -> RunRecord:
    """Capture, compare, append the run's record to the history, and return it."""
    history = plan.history
    previous = history.records()
    stamp, at = new_stamp()
    output = history.runs_dir / f"{stamp}.jsonl"
    probe = await ProbeSession(dataclasses.replace(plan.options, output=output)).run()
    capture = load(probe.path)
    record = RunRecord(stamp, at, str(output.relative_to(history.directory)), capture.reason, None)
    if plan.baseline is not None:
        record.against = f"baseline {plan.baseline}"
        record.changes = compare(load(plan.baseline), capture)
    elif complete := [r for r in previous if r.reason != INTERRUPTED]:
        record.against = f"previous {complete[-1].run}"
        record.changes = compare(load(history.directory / complete[-1].capture), capture)
    if plan.variants is not None:
        directory = history.runs_dir / f"{stamp}-matrix"
        matrix = await run_matrix(plan.options, plan.variants, directory, media=False)
        path = directory / f"result{SUFFIX}"
        write_matrix(matrix, path)
        record.matrix = str(path.relative_to(history.directory))
        before = next((r.matrix for r in reversed(previous) if r.matrix), None)
        if before is not None:
            record.changes += [f"matrix: {c.summary}" for c in diff_matrices(load_matrix(history.directory / before), matrix)]
    if plan.expectations:
        outcomes = assess(capture, plan.expectations, plan.unmeasured).outcomes
        record.expectations_failed = [f"{o.expectation}: {o.message}" for o in outcomes if o.failed]
    history.append(record)
    return record


def change_summary(record: RunRecord) -> str:
    """The text `--on-change` gets on stdin and in RTCPROBE_CHANGES: one change a line."""
    lines = [*record.changes, *(f"expectation failed: {e}" for e in record.expectations_failed)]
    return "\n".join(lines)


def call_on_change(command: str, record: RunRecord, history: History) -> int:
    """Run COMMAND without a shell (its words split as a shell would, nothing expanded), the change
    summary on stdin and in the environment: nothing a target says can become a command."""
    summary = change_summary(record)
    env = {**os.environ, "RTCPROBE_CHANGES": summary, "RTCPROBE_RUN": record.run, "RTCPROBE_AT": record.at,
           "RTCPROBE_CAPTURE": str(history.directory / record.capture), "RTCPROBE_TARGET": history.target}
    try:
        return subprocess.run(shlex.split(command), input=summary + "\n", text=True, env=env, check=False).returncode
    except OSError as exc:
        print(f"rtcprobe: watch: --on-change could not run: {exc}", file=sys.stderr)
        return 127


async def run_forever(plan: WatchPlan, every: float, on_run: Callable[[RunRecord], None]) -> None:
    """A run every `every` seconds, from the start of one to the start of the next (a run longer
    than the period starts the next at once); until a signal (a run under way ends its session and
    is recorded first)."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        on_run(await run_once(plan))
        if interrupts.received() is not None:  # the session ended on the signal: so does the watch
            return
        await asyncio.sleep(max(0.0, started + every - loop.time()))

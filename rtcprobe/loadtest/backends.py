"""Where the workers run: local processes (one per core) or Ray tasks. Both call worker.run_worker.

A plan splits the N sessions over W workers: session i starts at i / rate seconds (all at once
without a rate) and goes to worker i mod W; the concurrency cap C is shared out (W <= C, so each
worker holds at least one). Local workers write their captures straight into the output directory;
Ray tasks return theirs as text, and the driver writes them, so a cluster needs no shared disk.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue
import socket
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..commands import UsageError
from ..limits import LOAD_MAX_RETRY_AFTER
from ..probe.options import ProbeOptions
from .worker import Progress, WorkerJob, run_worker

#: Seconds between the plan and offset 0 of the ramp: worker processes import aiortc (about a
#: second each, more on a loaded machine) before their first session may start.
LOCAL_START_MARGIN = 2.0
RAY_START_MARGIN = 3.0


@dataclass
class LoadPlan:
    template: ProbeOptions
    sessions: int
    concurrency: int
    rate: float | None  # sessions started per second; None: all at once (within the cap)
    out_dir: Path
    retry_after_max: float = LOAD_MAX_RETRY_AFTER  # a 503's Retry-After honoured once up to this (s)

    def jobs(self, workers: int, t0: float, captures_returned: bool) -> list[WorkerJob]:
        workers = max(1, min(workers, self.sessions, self.concurrency))
        shares: list[WorkerJob] = []
        for w in range(workers):
            indices = list(range(w, self.sessions, workers))
            cap = self.concurrency // workers + (1 if w < self.concurrency % workers else 0)
            starts = [i / self.rate if self.rate else 0.0 for i in indices]
            shares.append(WorkerJob(self.template, indices, starts, cap, t0,
                                    None if captures_returned else str(self.out_dir), self.retry_after_max))
        return shares


def local_workers() -> int:
    """One worker per core this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def run_local(plan: LoadPlan, workers: int, on_progress: Progress, tick: Callable[[], None]) -> list[dict[str, Any]]:
    """The plan over local worker processes; progress items come back through a manager queue."""
    jobs = plan.jobs(workers, time.time() + LOCAL_START_MARGIN, captures_returned=False)
    context = multiprocessing.get_context("spawn")  # no inherited event loop or aiortc state
    with context.Manager() as manager, ProcessPoolExecutor(len(jobs), mp_context=context) as pool:
        updates = manager.Queue()
        futures = {pool.submit(_local_worker, job, updates) for job in jobs}
        outcomes: list[dict[str, Any]] = []
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            _drain(updates, on_progress)
            tick()
            for future in done:
                outcomes += future.result()["outcomes"]
        _drain(updates, on_progress)
    return sorted(outcomes, key=lambda o: (o["index"], o["retried"]))


def _local_worker(job: WorkerJob, updates: Any) -> dict[str, Any]:
    return run_worker(job, updates.put)


def _drain(updates: Any, on_progress: Progress) -> None:
    while True:
        try:
            on_progress(updates.get_nowait())
        except queue.Empty:
            return


def connect_ray(address: str) -> Any:
    """`ray` connected to the cluster at ADDRESS (HOST:PORT of its head, or auto); a missing Ray or
    a cluster that does not answer is a UsageError (one line, exit 2) before any session starts."""
    try:
        import ray
    except ImportError:
        raise UsageError("--ray: Ray is not installed (pip install 'rtcprobe[ray]')") from None
    if address != "auto":
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise UsageError(f"--ray {address}: expected HOST:PORT of the Ray head (its GCS port), or auto")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=3).close()
        except OSError as exc:
            raise UsageError(f"--ray {address}: no Ray cluster answers there ({exc.strerror or exc})") from None
    try:
        ray.init(address=address, logging_level="ERROR", log_to_driver=False, include_dashboard=False)
    except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ValueError...
        raise UsageError(f"--ray {address}: could not join the Ray cluster: {str(exc).splitlines()[0]}") from None
    return ray


def run_ray(plan: LoadPlan, address: str, on_progress: Progress, tick: Callable[[], None]) -> list[dict[str, Any]]:
    """The plan as Ray tasks (one CPU each, as many as the cluster has CPUs); captures come back as
    text and are written here. Progress is per finished task (a task reports when its share ends)."""
    ray = connect_ray(address)
    try:
        cpus = max(1, math.floor(ray.cluster_resources().get("CPU", 1)))
        jobs = plan.jobs(cpus, time.time() + RAY_START_MARGIN, captures_returned=True)
        task = ray.remote(num_cpus=1)(run_worker)
        pending = [task.remote(job) for job in jobs]
        for job in jobs:
            for index in job.indices:
                on_progress(("queued", index))
        outcomes: list[dict[str, Any]] = []
        while pending:
            done, pending = ray.wait(pending, num_returns=1, timeout=0.5)
            tick()
            for ref in done:
                result = ray.get(ref)
                for name, text in result["captures"].items():
                    (plan.out_dir / name).write_text(text, encoding="utf-8")
                for outcome in result["outcomes"]:
                    on_progress(("done", outcome))
                outcomes += result["outcomes"]
    finally:
        ray.shutdown()
    return sorted(outcomes, key=lambda o: (o["index"], o["retried"]))

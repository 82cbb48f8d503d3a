"""Helpers shared by the hostile-input suites (tests/test_hostile_*.py): run the CLI as a user
would, in a subprocess, under a memory limit and a hang guard. Keep it small."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

#: Address-space limit of a CLI run: far above what rtcprobe needs (~300 MB with aiortc loaded),
#: far below what an unbounded read would take.
MEMORY_LIMIT = 1536 * 1024 * 1024
#: Wall-clock guard against a hang: not a speed assertion.
HANG_GUARD = 120.0


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str


def run_cli(*args: str, cwd: Path | None = None, memory: int = MEMORY_LIMIT, timeout: float = HANG_GUARD,
            env: dict[str, str] | None = None) -> Run:
    """`rtcprobe ARGS...` in a subprocess limited to `memory` bytes of address space."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    proc = subprocess.run(
        [sys.executable, "-m", "rtcprobe.cli", *args], cwd=cwd, capture_output=True, text=True,
        timeout=timeout, preexec_fn=limit, env={**os.environ, "COLUMNS": "200", **(env or {})},
        errors="backslashreplace",
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)

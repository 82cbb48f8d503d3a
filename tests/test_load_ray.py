"""`rtcprobe load --ray`: the same worker function as Ray tasks on a local Ray cluster started here
(`ray start --head --block` on 127.0.0.1, 2 CPUs, stopped after), against `rtcprobe serve`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_process import free_port
from test_probe_cli import RTCPROBE, server  # noqa: F401 - the serve fixture

from rtcprobe.capture import load as load_capture

pytestmark = pytest.mark.slow
ray = pytest.importorskip("ray", reason="Ray is an optional extra: pip install 'rtcprobe[ray]'")


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A one-node Ray cluster (GCS on 127.0.0.1:PORT), its processes in their own group, ended by id."""
    port = free_port()
    temp = Path(f"/tmp/rtp-ray-{os.getpid()}")  # short: Ray's socket paths must fit 107 bytes
    log = tmp_path_factory.mktemp("ray") / "ray.log"
    ray_cli = Path(sys.executable).with_name("ray")
    with log.open("w") as out:
        proc = subprocess.Popen([str(ray_cli), "start", "--head", "--block", "--node-ip-address", "127.0.0.1",
                                 "--port", str(port), "--num-cpus", "2", "--include-dashboard", "false",
                                 "--disable-usage-stats", "--temp-dir", str(temp)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 90
        while "Ray runtime started" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
        os.killpg(proc.pid, signal.SIGTERM)  # --block: the head takes its raylet and workers down
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def test_thirty_sessions_through_ray(server: tuple[str, Path], ray_head: str, tmp_path: Path) -> None:  # noqa: F811
    base, _ = server
    out = tmp_path / "load"
    proc = subprocess.run([*RTCPROBE, "load", f"{base}/whip", "--ray", ray_head, "--sessions", "30", "--rate", "15/s",
                           "--token", "sk-serve-secret-0123456789", "--audio-only", "--lite", "--duration", "1",
                           "-o", str(out), "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(proc.stdout)
    assert document["backend"] == f"ray {ray_head}" and document["completed"] == 30 and document["failed"] == {}
    assert document["metrics"]["connect"]["n"] == 30
    captures = sorted(out.glob("session-*.jsonl"))  # returned by the tasks as text, written by the driver
    assert len(captures) == 30 and all(load_capture(c).ok for c in captures)

"""notebooks/explore.ipynb runs top to bottom, unedited, against fresh captures (nbclient, a real
ipykernel on this virtualenv's Python), from the notebooks/ directory as Jupyter would start it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import nbclient
import nbformat
import pytest
from ipykernel.kernelspec import install as install_kernelspec

from rtcprobe.commands.demo import DEMO_MESSAGES
from rtcprobe.probe.options import ProbeOptions
from rtcprobe.probe.session import ProbeSession
from rtcprobe.server import ServerConfig, run_server

pytestmark = pytest.mark.slow

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore.ipynb"


async def _demo_like(paths: list[Path]) -> None:
    """What `rtcprobe demo` records (openai protocol, audio + video + oai-events), one capture per path."""
    runner, base = await run_server(ServerConfig(host="127.0.0.1", port=0))
    try:
        for path in paths:
            options = ProbeOptions(target=f"{base}/v1/realtime/calls", output=path, protocol="openai", video=True,
                                   video_size=(640, 360), fps=10, duration=1.5, stats_interval=0.5,
                                   send=[json.dumps(m) for m in DEMO_MESSAGES])
            result = await ProbeSession(options).run()
            assert result.reason == "completed", result.diagnosis
    finally:
        await runner.cleanup()


def test_explore_notebook_runs_against_fresh_captures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    captures = tmp_path / "captures"
    older, newer = captures / "demo-a.jsonl", captures / "demo-b.jsonl"
    asyncio.run(_demo_like([older, newer]))
    # the kernel runs this interpreter (sys.executable: the venv with rtcprobe), whatever kernels the machine has
    install_kernelspec(kernel_name="python3", prefix=str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter" / "share" / "jupyter"))
    monkeypatch.setenv("RTCPROBE_CAPTURE", str(newer))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), "commit it clean"
    client = nbclient.NotebookClient(notebook, timeout=180, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, if any cell raises

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("data", {}).get("text/plain", "")) + str(o.get("data", {}).get("text/html", ""))
                     for o in outputs)
    assert "<Capture demo-b protocol=openai reason=completed" in text
    assert "PeerConnection" in text and "Connect time" in text  # the capture's own _repr_html_
    assert "demo-b" in text and "demo-a" in text  # the comparison and the many-capture frame
    assert "session.update" in text and "SR" in text
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) == 2  # RTT/bitrate, and connect phases across captures

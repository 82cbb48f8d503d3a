"""`rtcprobe demo`: the reference target in-process, a real audio+video+data-channel capture, the summary."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from .. import interrupts
from ..outputs import check_directory, check_file
from ..probe.options import ProbeOptions
from ..report.terminal import printable
from . import console, timestamped
from .arg_types import non_negative_seconds
from .catalog import summary

#: Realtime-API-shaped messages the demo sends once `oai-events` is open.
DEMO_MESSAGES = (
    {"type": "session.update", "session": {"type": "realtime", "instructions": "You are a test target."}},
    {"type": "conversation.item.create",
     "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}},
    {"type": "response.create"},
)


async def run_demo(duration: float, output_dir: Path, live: bool) -> tuple[object, Path]:
    from ..server import ServerConfig, run_server
    from .probe import run_capture

    token = f"demo-{secrets.token_hex(8)}"  # shows the secret handling end to end; never written
    runner, base_url = await run_server(ServerConfig(host="127.0.0.1", port=0, token=token))
    try:
        options = ProbeOptions(
            target=f"{base_url}/v1/realtime/calls", output=output_dir / timestamped("demo"), protocol="openai",
            token=token, audio="tone", video=True, video_size=(640, 360), fps=10, duration=duration,
            send=[json.dumps(m) for m in DEMO_MESSAGES],
        )
        result = await run_capture(options, console(), live=live)
    finally:
        await runner.cleanup()
    return result, options.output


#: Where `rtcprobe demo` writes its report (relative to the working directory, like captures/).
DEMO_REPORT = Path("reports") / "demo.html"


def write_demo_report(capture: Path, output: Path = DEMO_REPORT) -> Path:
    """The demo capture's HTML report; the demo's last step."""
    from ..report.html import write_report

    return Path(write_report([capture], output, title=f"rtcprobe demo: {capture.name}").path)


def cmd_demo(args: argparse.Namespace) -> int:
    from .probe import _exit_status, show_summary

    captures = Path("captures")
    check_directory(captures)  # before the session: both outputs can be written
    check_file(DEMO_REPORT)
    out = console()
    result, capture = interrupts.run(run_demo(args.duration, captures, live=not args.no_live and not args.json))
    try:
        show_summary(result, out, as_json=args.json)  # type: ignore[arg-type]
    except BrokenPipeError:  # `rtcprobe demo | head -1`: the report is still written, then a quiet exit
        write_demo_report(capture)
        raise
    report = write_demo_report(capture)
    # stdout carries only the JSON document under --json; the report's path goes to stderr there
    print(f"report: {printable(report)}", file=sys.stderr if args.json else sys.stdout)
    return _exit_status(result)  # type: ignore[arg-type]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help=summary("demo"))
    p.add_argument("--duration", type=non_negative_seconds, default=5.0, metavar="S",
                   help="seconds of media after connecting")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON document (the report's path on stderr)")
    p.add_argument("--no-live", action="store_true", help="no live view")
    p.set_defaults(handler=cmd_demo)

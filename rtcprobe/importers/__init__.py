"""Import what browsers record: chrome://webrtc-internals dumps (both download formats), rtcstats
dumps (Jitsi's and the original rtcstats-server's line files, the original rtcstats JSON) and HAR files.

Every importer produces captures with the probe's events (`rtcprobe.capture.events`) and W3C stats
names, one per PeerConnection (dumps) or per signaling exchange (HAR)::

    from rtcprobe.importers import load_captures, write_captures
    captures = load_captures("webrtc_internals_dump.txt")          # in memory
    written = write_captures("webrtc_internals_dump.txt", "captures/")  # capture files

`rtcprobe.inputs` finds these formats by content (it imports this package; this package does
not know it), so `analyze`/`diff` take the files directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..capture import Capture
from ..errors import InputError, check_input
from ..negotiation import Negotiation
from . import har, rtcstats_json, rtcstats_lines, rtcstatsdump, webrtc_internals
from .common import FileSink, MemorySink, Recorder, SessionInfo
from .files import NoProgress, Progress, head

__all__ = [
    "FORMATS", "ImportResult", "Written", "detect", "import_file", "load_captures", "load_negotiations",
    "write_captures",
]

#: Format name -> (content sniffer, reader). Sniffers see the first 4 KB, gunzipped, in this order
#: (the rtcstats JSON may also carry an empty webrtc-internals "PeerConnections" key: it goes first).
FORMATS = {
    rtcstatsdump.FORMAT: (rtcstatsdump.sniff, rtcstatsdump.read),
    rtcstats_json.FORMAT: (rtcstats_json.sniff, rtcstats_json.read),
    webrtc_internals.FORMAT: (webrtc_internals.sniff, webrtc_internals.read),
    rtcstats_lines.FORMAT: (rtcstats_lines.sniff, rtcstats_lines.read),
    har.FORMAT: (har.sniff, har.read),
}


#: What the first line of an rtcprobe capture holds (captures and rtcstats dumps are both `.jsonl`).
CAPTURE_MARK = b'"rtcprobe-capture/'


def detect(path: str | Path) -> str | None:
    """The browser-record format of a file by its content (and `.har`), or None (also for a capture)."""
    p = Path(path)
    try:
        start = head(p)
    except InputError:
        return None
    if CAPTURE_MARK in start.split(b"\n", 1)[0]:
        return None
    for name, (sniff, _) in FORMATS.items():
        if sniff(start):
            return name
    return har.FORMAT if p.suffix.lower() == ".har" and start.lstrip().startswith(b"{") else None


@dataclass
class ImportResult:
    """The sessions of one file and what could not be read; `problems` are one line each."""

    source: Path
    format: str
    sessions: list[Recorder]
    problems: list[str] = field(default_factory=list)

    def session_problems(self, recorder: Recorder) -> list[str]:
        return self.problems + recorder.problems


def import_file(path: str | Path, sinks: Callable[[SessionInfo], object], *, pc: str | None = None,
                stats: bool = True, progress: Progress | None = None) -> ImportResult:
    """Read a dump or HAR once, sending each session's events to the sink `sinks(info)` returns."""
    p = Path(path)
    name = detect(p)
    if name is None:
        check_input(p)  # missing, unreadable, not a regular file: said as such, not as "not a browser record"
        raise InputError("not a browser record: expected a webrtc-internals dump (JSON), an RTCStatsDump, an "
                         "rtcstats-server dump (Jitsi: one JSON array a line), an rtcstats JSON dump "
                         "(\"peerConnections\") or a HAR file", str(p))
    _, reader = FORMATS[name]
    sessions, problems = reader(p, pc=pc, sinks=sinks, stats=stats, progress=progress or NoProgress())
    return ImportResult(p, name, sessions, problems)


def load_captures(path: str | Path, *, pc: str | None = None, stats: bool = True,
                  progress: Progress | None = None) -> list[Capture]:
    """Each session of the file as a Capture in memory (the same events `write_captures` writes)."""
    result = import_file(path, MemorySink, pc=pc, stats=stats, progress=progress)
    return [r.sink.capture(result.session_problems(r)) for r in result.sessions]  # type: ignore[attr-defined]


@dataclass
class Written:
    id: str
    key: str
    path: Path
    events: dict[str, int]
    problems: list[str]


def capture_name(info: SessionInfo) -> str:
    """`<file stem>-<pc id>.jsonl`, with anything unsafe in a file name replaced."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{info.stem}-{info.key}")
    return f"{safe}.jsonl"


def write_captures(path: str | Path, output_dir: str | Path, *, pc: str | None = None,
                   progress: Progress | None = None) -> list[Written]:
    """Write one capture file per session into `output_dir` (created when missing)."""
    out = Path(output_dir)

    def sink(info: SessionInfo) -> FileSink:
        return FileSink(out / capture_name(info), info)

    result = import_file(path, sink, pc=pc, progress=progress)
    return [Written(r.info.id, r.info.key, r.sink.path, dict(r.counts), result.session_problems(r))  # type: ignore[attr-defined]
            for r in result.sessions]


def load_negotiations(path: Path, pc: str | None = None) -> list[Negotiation]:
    """The offer/answer of each session, without the stats (what `analyze` and `diff` need).

    What could not be imported rides along as warnings of the session's descriptions, so that
    the commands print it (one line each) like any other warning about the input."""
    negotiations, skipped = [], []
    for capture in load_captures(path, pc=pc, stats=False):
        options = capture.header.get("options") or {}
        name = f"{_noun(options)} {options.get('pc')}"
        negotiation = dataclasses.replace(capture.negotiation, source=f"{capture.path} ({name})",
                                          protocol=options.get("protocol") or capture.protocol, label=capture.id)
        described = negotiation.answer or negotiation.offer
        if described is None:
            skipped.append(f"{path}: {name} holds no session description, skipped"
                           + (f" ({capture.problems[-1]})" if capture.problems else ""))
            continue
        described.warnings.extend(p for p in capture.problems if p not in described.warnings)
        negotiations.append((negotiation, described))
    if not negotiations:
        raise InputError(skipped[0].removeprefix(f"{path}: ").replace(", skipped", ""), str(path))
    for _, described in negotiations:
        described.warnings.extend(skipped)
    return [n for n, _ in negotiations]


def _noun(options: dict[str, object]) -> str:
    return "exchange" if options.get("format") == har.FORMAT else "PeerConnection"

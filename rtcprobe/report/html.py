"""The self-contained HTML report: `rtcprobe report CAPTURE... -o reports/NAME.html`.

One file, readable offline and as a mail attachment: inline CSS, plots as PNG data URIs, no script,
and a Content-Security-Policy that forbids scripts and network fetches (see `html_base`). Captures
are loaded, rendered and dropped one at a time, so a report over many captures holds one capture's
events in memory at once plus the rendered sections.

Views render and compute nothing: every number comes from an analyzer in `rtcprobe.analyze`.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from .. import __version__
from ..analyze.connection import selected_pair, session_candidates
from ..analyze.detectors import detect
from ..analyze.evidence import evidence
from ..analyze.feedback import FeedbackCounts, feedback_counts
from ..analyze.impairment import impairment_truth
from ..analyze.latency import ConnectBreakdown, connect_breakdown, response_timings
from ..analyze.messages import channel_events, data_channels, datachannel_messages
from ..analyze.profile import Profile, profile
from ..analyze.streams import available_bitrate, pair_rtt, stream_series
from ..analyze.voice import voice_summary
from ..analyze.wire import extension_report
from ..anonymize import AddressMap, anonymize
from ..capture import Capture, load
from ..outputs import Checked, OutputError, replacing
from . import html_capture as sessions
from . import html_findings as findings_view
from . import html_media as media
from . import html_multi as multi
from .html_base import PAGE_TAIL, Markup, esc, join, page_head, section, table, tag
from .voice import voice_compare, voice_section

Source = str | Path | Capture


@dataclass
class ReportInfo:
    """What `write_report` wrote (for the CLI's message and `--json`)."""

    path: str
    captures: list[str]
    failed: list[str]
    bytes: int
    anonymized: bool
    addresses_replaced: int = 0
    warnings: list[str] = field(default_factory=list)
    #: Capture id -> section -> {"source", "note"}: where each section's numbers come from.
    sources: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)


def _profile(capture: Capture) -> Profile | None:
    negotiation = capture.negotiation
    if negotiation.offer is None and negotiation.answer is None:
        return None
    return profile(negotiation)


def _anonymized(capture: Capture, addresses: AddressMap) -> Capture:
    return Capture(capture.path, anonymize(capture.header, addresses), anonymize(capture.events, addresses),
                   capture.cut, anonymize(capture.problems, addresses))


def capture_body(capture: Capture, anchor: str = "") -> tuple[Markup, multi.Digest]:
    """Every section of one capture, the failure first when it failed; and its digest."""
    breakdown = connect_breakdown(capture)
    feedback = feedback_counts(capture)
    extensions = extension_report(capture)
    channels = data_channels(capture)
    voice = voice_summary(capture)
    impaired = impairment_truth(capture)
    parts = []
    if not capture.ok:
        parts.append(sessions.failure(capture, breakdown, anchor))
    toc = join(tag("a", name, href=f"#{anchor}{target}") for name, target in (
        ("findings", "findings"),
        ("profile", "profile"), ("connect", "connect"), *([("voice turns", "voice")] if not voice.empty else []),
        ("streams", "streams"),
        *([("impairment", "impairment")] if impaired is not None else []), ("RTCP", "rtcp"),
        ("candidates", "candidates"), ("extensions", "extensions"), ("data channels", "datachannel"),
        ("signaling", "signaling"), ("SDP", "sdp"), ("timeline", "timeline")))
    parts += [
        sessions.overview(capture), tag("nav", toc, class_="toc"),
        findings_view.findings_section(detect(capture), anchor),  # first: what went wrong
        sessions.profile_section(_profile(capture), anchor, capture.negotiation.answer or capture.negotiation.offer),
        sessions.connect_section(capture, breakdown, anchor),
        voice_section(voice, anchor),
        media.streams_section(stream_series(capture), pair_rtt(capture), anchor, evidence(capture),
                              impaired.intervals if impaired is not None else (), available_bitrate(capture)),
        sessions.impairment_section(impaired, anchor) if impaired is not None else "",
        media.feedback_section(feedback, anchor),
        media.candidates_section(session_candidates(capture), selected_pair(capture), capture, anchor),
        media.extensions_section(extensions, anchor),
        media.datachannel_section(datachannel_messages(capture), channel_events(capture), response_timings(capture),
                                  capture.duration, anchor, channels),
        sessions.http_section(capture, anchor),
        sessions.sdp_section(capture, anchor),
        sessions.timeline_section(capture, anchor),
    ]
    digest = _digest(capture, anchor, breakdown, feedback)
    digest.voice = voice
    digest.sources = {name: {"source": found.source, "note": found.note}
                      for name, found in (("rtcp", feedback), ("extensions", extensions), ("data_channels", channels))}
    return join(parts), digest


def _digest(capture: Capture, anchor: str = "", breakdown: ConnectBreakdown | None = None,
            feedback: FeedbackCounts | None = None) -> multi.Digest:
    return multi.Digest(capture.id, anchor, capture.protocol, capture.reason, capture.diagnosis, capture.duration,
                        capture.negotiation, breakdown or connect_breakdown(capture), feedback or feedback_counts(capture))


def _load(source: Source) -> Capture:
    return source if isinstance(source, Capture) else load(source)


def _expand(sources: Iterable[Source], pc: str | None) -> list[Source]:
    """Capture files stay paths (loaded one at a time); a browser dump becomes its sessions' captures
    (`pc` picks one PeerConnection of each dump)."""
    from ..importers import detect, load_captures

    out: list[Source] = []
    for source in sources:
        if not isinstance(source, Capture) and detect(source) is not None:
            out.extend(load_captures(source, pc=pc))
        else:
            out.append(source)
    return out


def _sections(sources: Iterable[Source], addresses: AddressMap | None, warnings: list[str],
              on_progress: Callable[[int, str], None] | None) -> Iterator[tuple[multi.Digest, list[Markup]]]:
    """Each capture's rendered sections, loaded, rendered and dropped one at a time."""
    listed = list(sources)
    single = len(listed) == 1
    for index, source in enumerate(listed):
        capture = _load(source)
        if addresses is not None:
            capture = _anonymized(capture, addresses)
        body, digest = capture_body(capture, "" if single else f"c{index + 1}-")
        warnings.extend(capture.problems)
        del capture
        if single:
            chunks = [Markup('<div id="capture">'), body, Markup("</div>")]
        else:
            summary = f"{digest.id} — {digest.reason}" + ("" if digest.ok else f": {digest.diagnosis}")
            chunks = [Markup(f'<section id="{esc(digest.anchor)}capture" class="capture">'),
                      Markup(f"<details{' open' if index == 0 or not digest.ok else ''}><summary>{esc(summary)}</summary>"),
                      body, Markup("</details></section>")]
        if on_progress is not None:
            on_progress(index + 1, digest.id)
        yield digest, chunks


def _front(digests: list[multi.Digest], title: str | None, addresses: AddressMap | None) -> list[Markup]:
    """Everything before the captures' sections: heading, and for several captures the overview,
    the latency distributions and the diffs (which need every capture's digest)."""
    if not digests:
        raise ValueError("a report needs at least one capture")
    single = len(digests) == 1
    heading = title or (f"rtcprobe report: {digests[0].id}" if single else f"rtcprobe report: {len(digests)} captures")
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"Generated {stamp} by rtcprobe {__version__}" + (
        "; IP addresses and candidate host names anonymised (loopback and mDNS UUID names kept)" if addresses is not None else "")
    chunks = [page_head(heading), tag("h1", heading), tag("p", meta, class_="meta")]
    if not single:
        chunks += [multi.failures(digests), section("captures", "Captures", multi.overview(digests)),
                   multi.distributions(digests),
                   voice_compare([d.id for d in digests], [d.anchor for d in digests], [d.voice for d in digests]),
                   multi.diffs(digests)]
    return chunks


def render_report(sources: Iterable[Source], *, anonymize_addresses: bool = False, title: str | None = None,
                  on_progress: Callable[[int, str], None] | None = None, pc: str | None = None) -> str:
    """The report as one string: one capture's sections, or for several an overview, latency
    distributions and diffs, then each capture. `anonymize_addresses` maps every IP address
    consistently across the whole report."""
    buffer = io.StringIO()
    _emit(_expand(sources, pc), buffer, ReportInfo("", [], [], 0, anonymize_addresses), title, on_progress)
    return buffer.getvalue()


def write_report(sources: Sequence[Source], output: str | Path, *, anonymize_addresses: bool = False,
                 title: str | None = None, on_progress: Callable[[int, str], None] | None = None,
                 pc: str | None = None) -> ReportInfo:
    """Render and write the report (parent directories created); returns what was written.

    The report is written beside `output` and renamed over it when complete: a run that fails
    (bad input, a full disk, Ctrl-C) leaves an earlier report as it was (OutputError names the cause)."""
    out = Path(output)
    info = ReportInfo(str(out), [], [], 0, anonymize_addresses)
    with replacing(out, encoding="ascii", newline="") as file:
        _emit(_expand(sources, pc), file, info, title, on_progress)  # type: ignore[arg-type]
    return info


def _emit(sources: Iterable[Source], file: TextIO, info: ReportInfo, title: str | None,
          on_progress: Callable[[int, str], None] | None) -> None:
    """Captures' sections are spooled to a temporary file as they are rendered, so memory stays
    flat however many captures the report covers; the front (which needs all of them) goes first."""
    addresses = AddressMap() if info.anonymized else None
    with _spool() as spool:  # esc() made every chunk ASCII
        digests = []
        for digest, chunks in _sections(sources, addresses, info.warnings, on_progress):
            digests.append(digest)
            spool.writelines(chunks)
        front = _front(digests, title, addresses)
        info.captures = [d.id for d in digests]
        info.failed = [d.id for d in digests if not d.ok]
        info.sources = {d.id: d.sources for d in digests}
        info.addresses_replaced = addresses.replaced if addresses is not None else 0
        spool.seek(0)
        for chunk in front:
            info.bytes += file.write(chunk)
        while block := spool.read(1 << 20):
            info.bytes += file.write(block)
        info.bytes += file.write(PAGE_TAIL)


@contextlib.contextmanager
def _spool() -> Iterator[TextIO]:
    """The temporary file the sections wait in; a full temporary directory is named as the cause."""
    where, doing = tempfile.gettempdir(), "cannot write the report's temporary file"
    try:
        spool = tempfile.TemporaryFile("w+", encoding="ascii", newline="")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise OutputError.from_os(where, exc, doing) from None
    with spool:
        yield Checked(spool, where, doing)  # type: ignore[misc]


def capture_summary_html(capture: Capture) -> str:
    """`Capture._repr_html_`: the failure (if any), the profile table and the connect breakdown."""
    breakdown = connect_breakdown(capture)
    state = tag("span", capture.reason, class_="good" if capture.ok else "bad")
    parts = [tag("h4", join([f"Capture {capture.id} — {capture.protocol or '?'}, {capture.duration:.1f} s, end: ",
                             state]))]
    if not capture.ok:
        parts.append(tag("p", join([tag("strong", "Failed: "), capture.diagnosis]), style="color:#b42318"))
    found = _profile(capture)
    if found is not None:
        parts.append(join([tag("strong", "Profile"),
                           table(["aspect", "what was found"], [[r.aspect, r.summary] for r in found.rows])]))
    parts.append(join([tag("strong", "Connect time"), sessions.connect_table(breakdown),
                       sessions.response_summary(breakdown.response_latencies)]))
    return str(tag("div", join(parts), class_="rtcprobe-capture"))


def collection_html(captures: Sequence[Capture]) -> str:
    """`CaptureSet._repr_html_`: one row per capture."""
    digests = [_digest(c) for c in captures]
    return str(tag("div", join([tag("h4", f"{len(digests)} captures"), multi.overview(digests)])))

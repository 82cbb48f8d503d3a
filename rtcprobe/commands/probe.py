"""`rtcprobe capture` and `rtcprobe demo`: run a real session, show it live, summarise it."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from rich.console import Console
from rich.live import Live
from rich.table import Table

from .. import interrupts
from ..analyze.feedback import feedback_counts
from ..analyze.impairment import impairment_truth
from ..analyze.latency import connect_breakdown
from ..analyze.profile import profile
from ..analyze.voice import voice_summary
from ..capture import load
from ..errors import load_json, read_text_file
from ..net.record import schedule_from
from ..net.spec import SpecError
from ..outputs import check_file
from ..probe import media
from ..probe.ice_patch import patches_for
from ..probe.ice_servers import IceConfig, IceConfigError
from ..probe.ice_servers import from_arguments as ice_from_arguments
from ..probe.offer_shape import track_mismatch
from ..probe.options import PhaseTimeouts, ProbeOptions
from ..probe.playback import receives_only
from ..probe.session import ProbeSession
from ..probe.status import ProbeResult, ProbeStatus
from ..profiles import BROWSERS, DEFAULT_OFFER, load_offer_profile
from ..redact import redact_url
from ..report import jsonout
from ..report.summary import render_summary
from ..report.terminal import safe
from ..report.voice import render_voice, voice_json
from ..signaling import check_target, guess_protocol
from ..voice.utterances import load_many as load_utterances
from . import EXIT_INTERRUPTED, EXIT_OK, EXIT_SESSION_FAILED, UsageError, console, timestamped
from .arg_types import (
    non_negative_int,
    non_negative_ms,
    non_negative_seconds,
    positive_fps,
    positive_seconds,
)
from .assess import (
    EXIT_EXPECTATION_FAILED,
    Assessment,
    Expectation,
    add_expect_arguments,
    assess,
    findings_document,
    parse_expectations,
    render_expectations,
    write_junit_file,
)
from .catalog import summary

PROTOCOL_CHOICES = ("whip", "whep", "openai", "openai-beta", "sdp-post")


def _size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d+)x(\d+)", text)
    if not match:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1920x1080, got {text!r}")
    return int(match.group(1)), int(match.group(2))


def _timeouts(values: list[str]) -> PhaseTimeouts:
    """`--timeout 10` sets every phase; `--timeout ice=5` one phase."""
    timeouts = PhaseTimeouts()
    for value in values:
        name, sep, seconds = value.partition("=")
        try:
            if not sep:
                for phase in vars(timeouts):
                    setattr(timeouts, phase, positive_seconds(name))
            elif name in vars(timeouts):
                setattr(timeouts, name, positive_seconds(seconds))
            else:
                raise UsageError(f"--timeout: unknown phase {name!r} (one of {', '.join(vars(timeouts))})")
        except (ValueError, argparse.ArgumentTypeError):  # -1, 0, inf: a phase needs some time, and an end
            raise UsageError(f"--timeout: expected seconds > 0 or PHASE=SECONDS, got {value!r}") from None
    return timeouts


def _default_output(target: str) -> Path:
    host = urlsplit(target).hostname or "target"
    return Path("captures") / timestamped(re.sub(r"[^A-Za-z0-9.-]", "_", host))


def _token_from_env(name: str | None, protocol: str) -> str | None:
    """An explicit --token-env, or OPENAI_API_KEY for the openai protocols only (never sent elsewhere)."""
    if name:
        return os.environ.get(name)
    return os.environ.get("OPENAI_API_KEY") if protocol in ("openai", "openai-beta") else None


def _ice_config(args: argparse.Namespace) -> IceConfig:
    """The ICE servers and policy of the flags; the credential is registered as a secret at once."""
    credential = args.ice_credential
    if args.ice_credential_env:
        credential = os.environ.get(args.ice_credential_env)
        if credential is None:
            raise UsageError(f"--ice-credential-env: {args.ice_credential_env} is not set")
    try:
        return ice_from_arguments(args.ice_server, args.ice_username, credential, args.relay_only, args.ice_config)
    except IceConfigError as exc:
        raise UsageError(str(exc)) from None


def options_from_args(args: argparse.Namespace) -> ProbeOptions:
    session = None
    if args.session:
        session = load_json(read_text_file(args.session, "a JSON session config"), args.session)  # the input guard
    for message in args.send:
        try:
            json.loads(message)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--send: not JSON ({exc.msg}): {message[:60]!r}") from None
        except ValueError as exc:  # an integer of more digits than Python converts
            raise UsageError(f"--send: not usable JSON ({exc}): {message[:60]!r}") from None
        except RecursionError:  # nested deeper than Python parses: a peer must cope; sent as given
            pass
    try:
        check_target(args.target)
        if args.audio != "none":
            media.check_audio_spec(args.audio)
        if args.video:
            media.check_video(args.video_size, args.fps)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _check_impairment(args)
    protocol = args.protocol or guess_protocol(args.target)
    token = args.token or _token_from_env(args.token_env, protocol)
    audio = None if args.audio == "none" else args.audio
    return ProbeOptions(
        target=args.target, output=Path(args.output) if args.output else _default_output(args.target),
        protocol=protocol, token=token, audio=audio, audio_codec=args.audio_codec, video=args.video,
        video_size=args.video_size, fps=args.fps, datachannel=args.datachannel, send=args.send,
        duration=args.duration, stats_interval=args.stats_interval, timeouts=_timeouts(args.timeout),
        ice=_ice_config(args), model=args.model, session=session, offer_format=args.offer_format,
        impair=args.impair, impair_schedule=args.impair_schedule, seed=args.seed,
        offer=_checked_offer(args.offer, audio is not None or receives_only(protocol), args.video or receives_only(protocol)),
        simulcast=_checked_simulcast(args.simulcast, args.video),
        **_turn_options(args, audio), **_patch_options(args, protocol),
    )


def _patch_options(args: argparse.Namespace, protocol: str) -> dict:
    """--trickle and --ice-restart-at (WHIP and WHEP only: their resources take PATCH)."""
    trickle, restart_at = getattr(args, "trickle", False), getattr(args, "ice_restart_at", None)
    try:
        if not patches_for(protocol, trickle, restart_at):
            return {}
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return {"trickle": trickle, "ice_restart_at": restart_at}


def _turn_options(args: argparse.Namespace, audio: str | None) -> dict:
    """--turns, --utterances, --listen-timeout, --barge-in as ProbeOptions fields; the utterances are
    read now, so that a WAV without speech is one line naming it before any session starts."""
    turns = getattr(args, "turns", 0) or 0
    if not turns:
        return {}
    if turns < 0 or audio is None:
        raise UsageError("--turns: expected a positive number of turns, with audio (not --audio none)")
    if args.listen_timeout <= 0 or (args.barge_in is not None and args.barge_in < 0):
        raise UsageError("--listen-timeout must be > 0 s and --barge-in >= 0 ms")
    if args.utterances:
        load_utterances(args.utterances)
    return {"turns": turns, "utterances": args.utterances, "listen_timeout": args.listen_timeout,
            "barge_in_ms": args.barge_in}


def _checked_simulcast(layers: int | None, video: bool) -> int:
    """`--simulcast N` (0 when not given); layers are of the video track, so it needs --video."""
    if layers and not video:
        raise UsageError(f"--simulcast {layers}: simulcast layers are video layers: add --video")
    return layers or 0


def _checked_offer(offer: str, audio: bool, video: bool) -> str:
    """`--offer` as given, once its profile loads and has an m-line for each of the probe's tracks."""
    why = track_mismatch(load_offer_profile(offer), ["audio"] * audio + ["video"] * video)
    if why:
        raise UsageError(f"--offer {offer}: {why} (drop --video/--audio none, or record an offer with them)")
    return offer


def _check_impairment(args: argparse.Namespace) -> None:
    """A bad SPEC or schedule is a usage error before any session starts (the schedule file's
    own errors are the input guard's, naming file and line)."""
    try:
        schedule_from(args.impair, args.impair_schedule)
    except SpecError as exc:
        raise UsageError(str(exc)) from None


def _rate(bps: float | None) -> str:
    return "—" if bps is None else f"{bps / 1000:.0f} kbit/s"


def _share(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.1f} %"


def _status_table(status: ProbeStatus, target: str) -> Table:
    """The live view: what the status says now; "—" for what has not arrived yet."""
    table = Table.grid(padding=(0, 2))
    rtt = f"{status.round_trip_time * 1000:.1f} ms" if status.round_trip_time else "—"
    left = f", {status.time_left:.0f} s left" if status.time_left is not None else ""
    table.add_row("[bold]target[/bold]", safe(redact_url(target)))
    table.add_row("[bold]phase[/bold]", safe(f"{status.phase}  (connection {status.connection_state}, ICE {status.ice_state})"))
    table.add_row("[bold]elapsed[/bold]", f"{status.elapsed:.0f} s{left}")
    table.add_row("[bold]bitrate[/bold]", f"{_rate(status.bitrate_sent)} sent, {_rate(status.bitrate_received)} received")
    table.add_row("[bold]RTP packets[/bold]", f"{status.packets_sent} sent, {status.packets_received} received")
    table.add_row("[bold]loss[/bold]", f"{_share(status.loss_sent)} of sent (peer's report), "
                                       f"{_share(status.loss_received)} of received")
    table.add_row("[bold]RTT[/bold]", rtt)
    table.add_row("[bold]messages[/bold]", f"{status.messages_received} received")
    return table


async def run_capture(options: ProbeOptions, out: Console, live: bool = True) -> ProbeResult:
    """Run one probe with a live view when the terminal supports it."""
    if not live or not out.is_terminal:
        return await ProbeSession(options).run()
    with Live(_status_table(ProbeStatus(), options.target), console=out, refresh_per_second=4, transient=True) as view:
        return await ProbeSession(options, lambda s: view.update(_status_table(s, options.target))).run()


def summarise(result: ProbeResult, out: Console, as_json: bool = False, expectations: list[Expectation] | None = None,
              unmeasured: str = "fail") -> Assessment:
    """Print the summary (findings first) or its JSON; the assessment (findings, `--expect` verdicts)."""
    capture = load(result.path)
    breakdown = connect_breakdown(capture)
    negotiated = capture.negotiation
    prof = profile(negotiated) if negotiated.answer or negotiated.offer else None
    feedback = feedback_counts(capture)
    voice = voice_summary(capture)
    assessment = assess(capture, expectations or [], unmeasured)
    if as_json:
        print(jsonout.dumps({"capture": result.path, "reason": result.reason, "diagnosis": result.diagnosis,
                             "warnings": result.warnings, "duration": result.duration, "connect": breakdown,
                             "profile": prof,
                             "rtcp": {"sent": feedback.sent, "received": feedback.received},
                             **({"voice": voice_json(voice)} if not voice.empty else {}),
                             **findings_document(assessment)}))
        return assessment
    # without an answer, every row but Interface describes what rtcprobe offered, not the target
    note = "" if negotiated.answer else "The target sent no answer: this profile is of rtcprobe's own offer."
    render_summary(path=result.path, reason=result.reason, diagnosis=result.diagnosis, breakdown=breakdown,
                   detection=assessment.detection,
                   profile=prof, feedback=feedback, console=out, warnings=result.warnings, profile_note=note,
                   impairment=impairment_truth(capture))
    render_voice(voice, out)
    render_expectations(assessment.outcomes, out)
    return assessment


def _exit_status(result: ProbeResult) -> int:
    """0 for a completed session, even with warnings (a refused teardown): the measurement is sound,
    and the warning is printed and kept in the capture. Scripts that must catch it read `warnings`
    of `--json`. After a signal (SIGINT, SIGTERM, SIGHUP), 128 + its number, as shells expect."""
    if interrupts.received() is not None:
        return interrupts.exit_status(EXIT_INTERRUPTED)
    if result.reason == "completed":
        return EXIT_OK
    return EXIT_INTERRUPTED if result.reason == "interrupted" else EXIT_SESSION_FAILED


def cmd_capture(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    check_file(options.output)  # before the session: a run whose capture cannot be written is not started
    expectations = parse_expectations(args.expect)  # a malformed one is a usage error before the session
    if args.junit:
        check_file(args.junit)
    out = console()
    result = interrupts.run(run_capture(options, out, live=not args.no_live and not args.json))
    assessment = show_summary(result, out, as_json=args.json, expectations=expectations, unmeasured=args.unmeasured)
    if args.junit and assessment is not None:
        write_junit_file(args.junit, [assessment])
    status = _exit_status(result)
    return EXIT_EXPECTATION_FAILED if status == EXIT_OK and assessment is not None and assessment.failed else status


def show_summary(result: ProbeResult, out: Console, as_json: bool = False,
                 expectations: list[Expectation] | None = None, unmeasured: str = "fail") -> Assessment | None:
    """`summarise`, except that after SIGHUP a terminal that is gone is no error: the capture is written."""
    try:
        return summarise(result, out, as_json=as_json, expectations=expectations, unmeasured=unmeasured)
    except OSError:
        if interrupts.received() is None or isinstance(sys.exc_info()[1], BrokenPipeError):
            raise
    return None


def add_probe_arguments(p: argparse.ArgumentParser) -> None:
    """Media, data-channel and timing flags shared by `capture` and `demo`."""
    p.add_argument("--audio", default="tone", help="tone, tone:HZ, silence, wav:PATH or none (default tone)")
    p.add_argument("--audio-codec", choices=("opus", "pcmu", "pcma"), default="opus", help="codec of the audio sent")
    p.add_argument("--video", action="store_true", help="send a moving test pattern")
    p.add_argument("--video-size", type=_size, default=(640, 480), metavar="WxH",
                   help="size of the test pattern (a webcam's; the study ran 1920x1080 at --fps 1)")
    p.add_argument("--fps", type=positive_fps, default=30.0, help="frame rate of the test pattern (at most 120)")
    p.add_argument("--datachannel", metavar="LABEL", help="open a data channel (openai protocols always open oai-events)")
    p.add_argument("--send", action="append", default=[], metavar="JSON", help="message to send once the channel is open")
    p.add_argument("--duration", type=non_negative_seconds, default=5.0, metavar="S", help="seconds of media after connecting")
    p.add_argument("--stats-interval", type=positive_seconds, default=1.0, metavar="S",
                   help="seconds between stats samples")
    p.add_argument("--timeout", action="append", default=[], metavar="[PHASE=]SECONDS",
                   help="per-phase timeout: http, ice, dtls, media, datachannel (repeatable)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON document")
    p.add_argument("--no-live", action="store_true", help="no live view")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("capture", help=summary("capture"))
    p.add_argument("target", help="URL: a WHIP or WHEP endpoint, {base}/v1/realtime/calls, {base}/v1/realtime, or an SDP-POST URL")
    p.add_argument("-o", "--output", help="capture file (default captures/HOST-TIME.jsonl)")
    add_session_arguments(p)
    add_probe_arguments(p)
    add_expect_arguments(p)
    p.set_defaults(handler=cmd_capture)


def add_session_arguments(p: argparse.ArgumentParser) -> None:
    """Signaling, offer, ICE, impairment, turns and patch flags: `capture`'s, and each `load` session's."""
    p.add_argument("--protocol", choices=PROTOCOL_CHOICES, help="default: guessed from the URL")
    p.add_argument("--token", help="bearer token (never written anywhere)")
    p.add_argument("--token-env", metavar="NAME",
                   help="environment variable holding the token (default: OPENAI_API_KEY, for openai protocols only)")
    p.add_argument("--model", help="realtime model name (openai protocols)")
    p.add_argument("--session", metavar="FILE", help="JSON session config (openai protocols)")
    p.add_argument("--offer-format", choices=("sdp", "json"), default="sdp", help="sdp-post: how to send the offer")
    p.add_argument("--offer", default=DEFAULT_OFFER, metavar="PROFILE|PATH",
                   help=f"offer as a browser does: {', '.join(BROWSERS)}, aiortc (its own offer), "
                        f"or the path of a recorded offer to replay (default {DEFAULT_OFFER})")
    p.add_argument("--simulcast", type=int, choices=(2, 3), metavar="N",
                   help="with --video: offer N RID layers (full, 1/2, 1/4 size) and send those the answer accepts")
    p.add_argument("--ice-server", action="append", default=[], metavar="URL",
                   help="stun:HOST[:PORT], turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT] (TLS); repeatable")
    p.add_argument("--ice-username", metavar="NAME", help="TURN username for --ice-server")
    p.add_argument("--ice-credential", metavar="SECRET", help="TURN credential (never written anywhere)")
    p.add_argument("--ice-credential-env", metavar="NAME", help="environment variable holding the TURN credential")
    p.add_argument("--ice-config", metavar="FILE", help='JSON RTCConfiguration: {"iceServers": [...], "iceTransportPolicy"}')
    p.add_argument("--relay-only", action="store_true", help="iceTransportPolicy relay: connect through TURN only")
    p.add_argument("--impair", action="append", default=[], metavar="SPEC",
                   help="impair the probe's own network: loss=5%%,burst=3,delay=40ms,jitter=10ms,reorder=1%%,"
                        "duplicate=1%%,rate=500kbit,queue=30kB, up:/down: for one direction, or a preset "
                        "(3g, edge, lte, dsl, wifi, verybad); with at=10s, a schedule entry (repeatable)")
    p.add_argument("--impair-schedule", metavar="FILE", help="lines 'TIME SPEC' (10s rate=300kbit): from TIME on "
                                                             "the capture clock, the network is SPEC")
    p.add_argument("--seed", type=int, default=0, help="seed of the impairment's random draws (default 0)")
    p.add_argument("--turns", type=non_negative_int, default=0, metavar="N",
                   help="scripted voice turns: speak an utterance, listen for the answer, N times; voice-to-voice "
                        "latency per turn (the session lasts as long as the turns; --duration is the stats period)")
    p.add_argument("--utterances", nargs="+", default=[], metavar="DIR|FILE.wav",
                   help="what to say in turns (default: rtcprobe's shipped utterances)")
    p.add_argument("--listen-timeout", type=positive_seconds, default=10.0, metavar="S",
                   help="seconds after the user's speech end with no answer: the turn is unanswered (default 10)")
    p.add_argument("--barge-in", type=non_negative_ms, default=None, metavar="MS",
                   help="speak again MS after the agent starts answering; measure how long it takes to stop")
    p.add_argument("--trickle", action="store_true",
                   help="WHIP/WHEP: PATCH a=end-of-candidates with If-Match after the answer (RFC 9725 §4.3)")
    p.add_argument("--ice-restart-at", type=non_negative_seconds, default=None, metavar="S",
                   help="WHIP/WHEP: ICE restart through PATCH at S s on the capture clock (RFC 9725 §4.4)")

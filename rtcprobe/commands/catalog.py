"""Which module defines each subcommand, and its one-line summary: the one place for both.

Imports nothing, so that `rtcprobe --help` and `--version` can list the commands without importing
them (aiortc, pandas and matplotlib cost about a second); `rtcprobe CMD` imports CMD's module only.
"""

from __future__ import annotations

#: command -> (module under rtcprobe.commands, summary shown by `rtcprobe --help`), in help order
COMMANDS: dict[str, tuple[str, str]] = {
    "analyze": ("inspect", "profile a session: SDP, JSON {type,sdp}, snapshot, capture or candidate lines"),
    "diff": ("inspect", "what changed between two sessions"),
    "capture": ("probe", "establish a real session with a target and record it"),
    "demo": ("demo", "run the whole loop against the built-in reference target"),
    "serve": ("serve", "run the reference target (WHIP, realtime calls, beta, SDP POST) on loopback"),
    "check": ("check", "check a WHIP/WHEP server against RFC 9725 / draft-ietf-wish-whep, requirement by requirement"),
    "load": ("load", "run many real sessions against one target (ramped, capped, on cores or Ray) and summarise"),
    "import": ("importer", "turn a webrtc-internals dump, RTCStatsDump or HAR into capture files"),
    "report": ("report", "write a self-contained HTML report of one or more captures"),
    "assess": ("assess", "find issues in captures (ICE, set-up, congestion, freezes, MOS...) and "
                         "check --expect expectations: a CI gate"),
    "matrix": ("matrix", "try offer variants (codecs, RTX, extensions, BUNDLE...) against a target: what it accepts"),
    "watch": ("watch", "capture a target on a schedule, keep a history, and alert on a semantic change"),
    "completion": ("completion", "print a shell completion script: rtcprobe completion bash|zsh"),
}


def summary(command: str) -> str:
    """The help line of COMMAND (its `register` passes this to `add_parser`)."""
    return COMMANDS[command][1]


def modules() -> list[str]:
    """Command modules in help order, each once."""
    return list(dict.fromkeys(module for module, _ in COMMANDS.values()))

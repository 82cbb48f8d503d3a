"""`rtcprobe completion bash|zsh`: a shell completion script, generated from the whole parser by shtab."""

from __future__ import annotations

import argparse

from .catalog import summary

SHELLS = ("bash", "zsh", "tcsh")


def cmd_completion(args: argparse.Namespace) -> int:
    import shtab

    from ..cli import build_parser  # the whole parser: every command's options

    print(shtab.complete(build_parser(), shell=args.shell))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("completion", help=summary("completion"),
                       description="bash: eval \"$(rtcprobe completion bash)\" in ~/.bashrc; "
                                   "zsh: rtcprobe completion zsh > ~/.zfunc/_rtcprobe (a directory on $fpath)")
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(handler=cmd_completion)

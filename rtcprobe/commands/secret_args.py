"""An argument parser whose usage errors never echo a secret given on the command line.

argparse quotes arguments back in its errors: "unrecognized arguments: ..." lists every leftover
word (a misspelled `--ice-credentail SECRET` puts the secret on the terminal), and "ambiguous
option: --ice-c=SECRET could match ..." quotes a value. Here the values of secret options
(`--token`, `--ice-credential`, and any abbreviation of them) and the passwords of URLs are
registered with `rtcprobe.redact` before parsing, unrecognized words that are not option names
are counted instead of shown, an `--option=value` is quoted without its value, and every error
message goes through `redact_text`.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from ..redact import redact_text, register_secret, register_url_credentials

#: Options whose value is a secret (prefixes of them count too while argparse accepts abbreviations).
SECRET_OPTIONS = ("--token", "--ice-credential")
_OPTION_VALUE = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)=\S+")


def _is_secret_option(word: str) -> bool:
    name = word.partition("=")[0]
    return len(name) > 3 and any(option.startswith(name) for option in SECRET_OPTIONS)


def register_argv_secrets(argv: Sequence[str]) -> None:
    """Register the secrets of a command line: values of secret options, passwords in URLs
    (`https://u:p@...`, `?token=`, `turn:user:password@host`)."""
    previous = ""
    for word in argv:
        if _is_secret_option(previous) and "=" not in previous:
            register_secret(word)
        elif word.startswith("-") and "=" in word and _is_secret_option(word):
            register_secret(word.partition("=")[2])
        elif "://" in word:
            register_url_credentials(word)
        elif re.match(r"(?i)turns?:", word) and "@" in word:
            userinfo = word.split(":", 1)[1].rpartition("@")[0]
            register_secret(userinfo.rpartition(":")[2] or None)
        previous = word


def shown_leftovers(words: Sequence[str]) -> str:
    """Unrecognized words as an error may show them: option names only, values counted."""
    names = [w.partition("=")[0] for w in words if w.startswith("-") and len(w) > 1]
    hidden = len(words) - len(names)
    text = " ".join(names)
    if hidden:
        text += (" and " if names else "") + f"{hidden} other word(s), not shown (they may be secrets)"
    return text


class SecretSafeParser(argparse.ArgumentParser):
    """`argparse.ArgumentParser` whose errors do not repeat secrets (subparsers inherit the class)."""

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:
        register_argv_secrets(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed, leftovers = self.parse_known_args(args, namespace)
        if leftovers:
            self.error(f"unrecognized arguments: {shown_leftovers(leftovers)}")
        return parsed

    def error(self, message: str) -> NoReturn:
        super().error(redact_text(_OPTION_VALUE.sub(r"\1=…", message)))

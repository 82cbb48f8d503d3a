"""Offer variants as data: the shipped `variants.json`, extended or replaced by a user's file.

A variant is a name, a one-line `about` and edits of the offer. Unknown keys or values are
refused with one line naming the file and the variant, because a typo (`codec` for `codecs`)
would otherwise run the default offer and report it under the variant's name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, load_json, read_text_file

SHIPPED = Path(__file__).resolve().parent / "variants.json"
MEDIA = ("audio", "video", "audio+video", "none")
#: variant key -> (what its value must be, checker)
KEYS: dict[str, str] = {
    "name": "a name of letters, digits, '-', '.' or '_'",
    "about": "a one-line description",
    "media": "one of " + ", ".join(MEDIA),
    "datachannel": "true or false",
    "codecs": 'an object {"audio"|"video": ["NAME [param=value ...]", ...]}',
    "rtx": "true or false",
    "add_codecs": 'an object {"audio"|"video": ["NAME/RATE[/CH] fmtp-params", ...]}: codecs the profile lacks',
    "fmtp": 'an object {"codec": {"param": "value"}}',
    "extensions": "a list of header extension URIs to keep (every other extmap is dropped)",
    "drop_extensions": "a list of header extension URIs to drop",
    "drop_feedback": "a list of rtcp-fb types to drop (transport-cc, goog-remb, nack, ccm fir ...)",
    "bundle": "none or max-bundle",
    "rtcp_mux": "false",
    "candidates": "ipv6 or tcp",
    "simulcast": "2 or 3",
}


@dataclass
class Variant:
    name: str
    about: str = ""
    media: str = "audio+video"
    datachannel: bool = False
    codecs: dict[str, list[str]] = field(default_factory=dict)
    rtx: bool = True
    add_codecs: dict[str, list[str]] = field(default_factory=dict)
    fmtp: dict[str, dict[str, str]] = field(default_factory=dict)
    extensions: list[str] | None = None
    drop_extensions: list[str] = field(default_factory=list)
    drop_feedback: list[str] = field(default_factory=list)
    bundle: str | None = None
    rtcp_mux: bool = True
    candidates: str | None = None
    simulcast: int = 0

    @property
    def kinds(self) -> list[str]:
        """The probe's tracks, as ProbeOptions takes them."""
        return [] if self.media == "none" else self.media.split("+")

    def edits(self) -> dict[str, Any]:
        """What the session applies to the offer (ProbeOptions.variant; recorded in the header)."""
        return {"name": self.name, "add_codecs": self.add_codecs, "codecs": self.codecs, "rtx": self.rtx, "fmtp": self.fmtp,
                "extensions": self.extensions, "drop_extensions": self.drop_extensions,
                "drop_feedback": self.drop_feedback, "bundle": self.bundle, "rtcp_mux": self.rtcp_mux,
                "candidates": self.candidates}


def _valid(key: str, value: Any) -> bool:
    strings = lambda v: isinstance(v, list) and all(isinstance(s, str) for s in v)  # noqa: E731
    return {
        "name": lambda v: isinstance(v, str) and bool(v) and all(c.isalnum() or c in "-._" for c in v),
        "about": lambda v: isinstance(v, str),
        "media": lambda v: v in MEDIA,
        "datachannel": lambda v: isinstance(v, bool),
        "rtx": lambda v: isinstance(v, bool),
        "codecs": lambda v: isinstance(v, dict) and set(v) <= {"audio", "video"} and all(map(strings, v.values())),
        "add_codecs": lambda v: isinstance(v, dict) and set(v) <= {"audio", "video"} and all(map(strings, v.values()))
        and all("/" in s.split(" ")[0] for specs in v.values() for s in specs),
        "fmtp": lambda v: isinstance(v, dict) and all(isinstance(p, dict) and all(isinstance(x, str) for x in p.values())
                                                      for p in v.values()),
        "extensions": strings, "drop_extensions": strings, "drop_feedback": strings,
        "bundle": lambda v: v in ("none", "max-bundle"),
        "rtcp_mux": lambda v: v is False,
        "candidates": lambda v: v in ("ipv6", "tcp"),
        "simulcast": lambda v: v in (2, 3),
    }[key](value)


def parse_variants(data: Any, source: str) -> tuple[list[Variant], bool]:
    """The variants of one file's JSON and whether they replace the shipped ones."""
    if not isinstance(data, dict) or not isinstance(data.get("variants"), list):
        raise InputError('expected {"variants": [{"name": ..., ...}, ...]} (optionally "replace": true)', source)
    unknown = set(data) - {"variants", "replace", "rtcprobe_matrix_variants"}
    if unknown:
        raise InputError(f"unknown top-level key {sorted(unknown)[0]!r} (expected variants, replace)", source)
    out = []
    for number, item in enumerate(data["variants"], 1):
        label = f"variant #{number}" + (f" ({item.get('name')})" if isinstance(item, dict) and item.get("name") else "")
        if not isinstance(item, dict) or "name" not in item:
            raise InputError(f"{label}: expected an object with a name", source)
        for key, value in item.items():
            if key not in KEYS:
                raise InputError(f"{label}: unknown variant key {key!r} (one of {', '.join(KEYS)})", source)
            if not _valid(key, value):
                raise InputError(f"{label}: {key} must be {KEYS[key]}, got {json.dumps(value)[:60]}", source)
        variant = Variant(**item)
        if variant.simulcast and "video" not in variant.kinds:
            raise InputError(f"{label}: simulcast layers are video layers: media must include video", source)
        out.append(variant)
    return out, data.get("replace") is True


def load_variants(user_file: str | None = None, only: list[str] | None = None) -> list[Variant]:
    """The shipped variants, extended (same name: replaced) or replaced by `user_file`; `only`
    picks some by name (an unknown name is one line)."""
    variants, _ = parse_variants(json.loads(SHIPPED.read_text(encoding="utf-8")), str(SHIPPED))
    if user_file:
        mine, replace = parse_variants(load_json(read_text_file(user_file, "a JSON variants file"), user_file), user_file)
        by_name = {} if replace else {v.name: v for v in variants}
        by_name.update({v.name: v for v in mine})
        variants = list(by_name.values())
    if only:
        names = {v.name: v for v in variants}
        missing = [n for n in only if n not in names]
        if missing:
            raise InputError(f"unknown variant {missing[0]!r} (see `rtcprobe matrix --list`)", "--variant")
        variants = [names[n] for n in only]
    return variants

"""One entry point that turns any file a user hands us into a Negotiation (or says why not)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from . import importers
from .errors import JSONLimitError, json_value, read_text_file
from .negotiation import Negotiation
from .sdp import SdpError, parse_description
from .sdp.parse import SDP_FILE_CONTENT


def _capture(path: Path, pc: str | None = None) -> list[Negotiation]:
    """A capture holds one session: `pc` (for browser dumps) does not apply."""
    from .capture import load
    from .errors import InputError

    negotiation = load(path).negotiation
    if negotiation.offer is None and negotiation.answer is None:  # e.g. an imported dump that left out its SDP
        raise InputError("holds no session description (no offer or answer SDP was recorded)", str(path))
    return [negotiation]


def _jsonl(path: Path, pc: str | None = None) -> list[Negotiation]:
    """rtcstats names its dumps `.jsonl` too: a browser record by content, else a capture."""
    return importers.load_negotiations(path, pc) if importers.detect(path) is not None else _capture(path, pc)


def _browser_record(path: Path) -> Reader | None:
    """A webrtc-internals or rtcstats dump or a HAR, found by its content; None for anything else."""
    return importers.load_negotiations if importers.detect(path) is not None else None


#: A reader takes the path and an optional session id (`--pc`: one PeerConnection of a dump).
Reader = Callable[[Path, str | None], list[Negotiation]]
#: Readers by file suffix (captures, `.har`). Each returns Negotiations.
READERS: dict[str, Reader] = {".jsonl": _jsonl, ".har": importers.load_negotiations}
#: Readers by content, for formats whose suffix says little (browser dumps are .txt, .gz or .json):
#: each sniffer gets the path and returns a reader, or None.
SNIFFERS: list[Callable[[Path], Reader | None]] = [_browser_record]


def _snapshot(obj: dict, source: str) -> Negotiation:
    """A JSON snapshot: {"offer": {type,sdp}|str, "answer": ..., "http": [...], "protocol": ...}."""
    sides = {}
    for side in ("offer", "answer"):
        value = obj.get(side)
        if value is None:
            continue
        text = value.get("sdp") if isinstance(value, dict) else value
        if not isinstance(text, str):
            raise SdpError(f'"{side}" must be SDP text or {{"type","sdp"}}', source)
        sides[side] = parse_description(text, f"{source} ({side})", type=side)
    if not sides:
        raise SdpError('a snapshot needs an "offer" or an "answer" (SDP text or {"type","sdp"})', source)
    http = obj.get("http") or []
    if not isinstance(http, list) or not all(isinstance(h, dict) for h in http):
        raise SdpError('"http" must be a list of objects', source)
    return Negotiation(source, sides.get("offer"), sides.get("answer"), http, obj.get("protocol"))


def load_negotiations(path: str | Path, pc: str | None = None) -> list[Negotiation]:
    """Everything in a file: a bare SDP, a {type,sdp} JSON, a snapshot, candidate lines, or a registered
    format (`pc` picks one session of a browser dump or HAR)."""
    p = Path(path)
    for suffix, reader in READERS.items():
        if p.name.endswith(suffix):
            return reader(p, pc)
    for sniff in SNIFFERS:
        found = sniff(p)
        if found is not None:
            return found(p, pc)
    text = read_text_file(p, SDP_FILE_CONTENT)
    stripped = text.lstrip("\ufeff").strip()
    if stripped.startswith("{"):
        try:
            obj = json_value(stripped)
        except json.JSONDecodeError as exc:
            raise SdpError(f"invalid JSON: {exc.msg} (column {exc.colno})", str(p), exc.lineno) from None
        except JSONLimitError as exc:  # too deep, or an integer Python cannot read
            raise SdpError(str(exc), str(p)) from None
        if isinstance(obj, dict) and ("offer" in obj or "answer" in obj):
            return [_snapshot(obj, str(p))]
    description = parse_description(text, str(p))
    offer = description if description.type == "offer" else None
    answer = description if description.type != "offer" else None
    return [Negotiation(str(p), offer, answer)]


def load_negotiation(path: str | Path, pc: str | None = None, round: int | None = None) -> Negotiation:  # noqa: A002
    """The first (usually only) negotiation in a file (`pc`: one session of a dump), as of its last
    applied offer/answer round or of `round` (1-based)."""
    found = load_negotiations(path, pc)
    if not found:
        raise SdpError("holds no session to analyze", str(path))
    return found[0] if round is None else found[0].at_round(round)


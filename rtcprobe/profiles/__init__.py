"""Offer and answer profiles: the offers real browsers make and the answers real services give,
kept as data files with where each came from (one loader for both).

A profile is one file in `offers/`, named `<browser>-<version>.json`: the browser, its version,
the source (recorded here by a script in tests/data/, or a public fixture named by
repository@commit:path), the license, and the offer's lines unchanged. `--offer chrome` picks
the one `chrome-*` file; a path is any SDP a user recorded (JSON `{"type","sdp"}` too), replayed
as it is. Code never lists a browser's codecs: `rtcprobe.probe.offer_shape` copies them from here.

An answer profile is one file in `answers/`, named `<service>-<version>.json` with the same keys
(`service` instead of `browser`): the recorded answer a service gave, which `rtcprobe serve
--answer-profile NAME` imitates (rtcprobe.server.answer_shape), and `notes` on what differs.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, read_text_file
from ..sdp import SessionDescription, parse_description

OFFERS_DIR = Path(__file__).resolve().parent / "offers"
ANSWERS_DIR = Path(__file__).resolve().parent / "answers"
AIORTC = "aiortc"  # aiortc's own offer, unchanged: no profile file
#: the names `--offer` takes besides a path; each but aiortc is the browser of one file in offers/
BROWSERS = ("chrome", "chromium", "firefox", "safari")
DEFAULT_OFFER = "chrome"


@dataclass
class OfferProfile:
    """One browser's offer (or a user's recorded one) and its provenance."""

    name: str  # "chrome", a file stem such as "firefox-153", or the path given
    browser: str  # "chrome", "firefox", ... or "recorded" for a user's file
    version: str
    source: str  # where the offer came from
    sdp: str  # CRLF line ends, as browsers write them
    description: SessionDescription

    def provenance(self) -> dict[str, str]:
        """What the capture records about the profile (the offer itself is in the sdp event)."""
        return {"name": self.name, "browser": self.browser, "version": self.version, "source": self.source}

    def kinds(self) -> list[str]:
        return [m.kind for m in self.description.media]


def profile_names() -> list[str]:
    """Every name `--offer` takes, besides a path: browsers, aiortc, and each file's stem."""
    stems = sorted(p.stem for p in OFFERS_DIR.glob("*.json"))
    return [*BROWSERS, AIORTC, *stems]


def load_offer_profile(name_or_path: str) -> OfferProfile | None:
    """The profile `--offer` names; None for `aiortc` (its own offer). Raises InputError with one
    line for an unknown name or a file that is no usable offer."""
    if name_or_path == AIORTC:
        return None
    files = {p.stem: p for p in OFFERS_DIR.glob("*.json")}
    matches = sorted(p for stem, p in files.items() if stem.split("-")[0] == name_or_path)
    if name_or_path in files:
        return _load_data_file(files[name_or_path])
    if matches:
        return _load_data_file(matches[-1])
    path = Path(name_or_path)
    if not path.exists() and "/" not in name_or_path and "." not in name_or_path:
        raise InputError(f"unknown profile {name_or_path!r} (one of {', '.join(profile_names())}, "
                         "or the path of a recorded offer)", "--offer")
    return _load_user_offer(path)


def _read_data_file(path: Path) -> tuple[dict, str, SessionDescription]:
    """A profile file's fields, its SDP (CRLF line ends) and the parsed description."""
    data = json.loads(path.read_text(encoding="utf-8"))
    sdp = "\r\n".join(data["sdp"]) + "\r\n"
    return data, sdp, parse_description(sdp, str(path))


@functools.lru_cache(maxsize=64)
def _load_data_file(path: Path) -> OfferProfile:
    """A bundled profile, read and parsed once per process: `rtcprobe load` shapes every session's
    offer with it (profiles are package data, and nothing mutates a loaded one)."""
    data, sdp, description = _read_data_file(path)
    return OfferProfile(name=path.stem, browser=data["browser"], version=data["version"], source=data["source"],
                        sdp=sdp, description=description)


@dataclass
class AnswerProfile:
    """One service's recorded answer and its provenance: what `serve --answer-profile` imitates."""

    name: str  # the file stem, e.g. "openai-2025-09"
    service: str
    version: str
    source: str
    sdp: str
    description: SessionDescription
    notes: list[str]  # how the served answer differs from the recorded one, and why

    def provenance(self) -> dict[str, str]:
        return {"name": self.name, "service": self.service, "version": self.version, "source": self.source}


def answer_profile_names() -> list[str]:
    return sorted(p.stem for p in ANSWERS_DIR.glob("*.json"))


def load_answer_profile(name: str) -> AnswerProfile:
    """The answer profile `name` (a file stem in answers/); InputError with one line otherwise."""
    path = ANSWERS_DIR / f"{name}.json"
    if "/" in name or not path.is_file():
        raise InputError(f"--answer-profile: unknown profile {name!r} (one of {', '.join(answer_profile_names())})")
    data, sdp, description = _read_data_file(path)
    if description.type not in (None, "answer"):
        raise InputError(f"expected an answer, got a description of type {description.type!r}", str(path))
    return AnswerProfile(name=name, service=data["service"], version=data["version"], source=data["source"],
                         sdp=sdp, description=description, notes=list(data.get("notes", [])))


def _load_user_offer(path: Path) -> OfferProfile:
    text = read_text_file(path, "an SDP offer (or JSON {type, sdp})")
    description = parse_description(text, str(path))
    if description.type not in (None, "offer"):
        raise InputError(f"expected an offer, got a description of type {description.type!r}", str(path))
    if not any(m.kind in ("audio", "video") for m in description.media):
        raise InputError("the offer has no audio or video m-line to take codecs from", str(path))
    sdp = description.text if description.text.startswith("v=") else text
    return OfferProfile(name=str(path), browser="recorded", version="", source=f"user file {path}",
                        sdp=sdp, description=description)


"""Codecs and the meaning of their fmtp: H.264 profile-level-id, Opus flags, RTX/RED/FEC roles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

#: Display names, so that "H264" and "opus" read as engineers write them.
CODEC_DISPLAY = {
    "opus": "Opus", "pcmu": "PCMU", "pcma": "PCMA", "g722": "G.722", "h264": "H.264",
    "h265": "H.265", "vp8": "VP8", "vp9": "VP9", "av1": "AV1", "isac": "iSAC", "ilbc": "iLBC",
    "red": "RED", "rtx": "RTX", "ulpfec": "ULPFEC", "flexfec-03": "FlexFEC", "cn": "CN",
    "telephone-event": "telephone-event",
}

#: Codecs that carry no media of their own: retransmission, redundancy, FEC, comfort noise, DTMF.
AUXILIARY_ROLES = {"rtx": "rtx", "red": "red", "ulpfec": "fec", "flexfec-03": "fec",
                   "flexfec": "fec", "cn": "cn", "telephone-event": "dtmf"}

_HEX6 = re.compile(r"[0-9A-Fa-f]{6}")  # int(x, 16) alone would take "0x1f2a", "-42e01", "42_e01"

# (profile_idc, mask, value of profile_iop under mask) -> profile name; from RFC 6184 table 5
# as refined in libwebrtc's h264_profile_level_id.cc (first match wins).
_H264_PROFILES: tuple[tuple[int, int, int, str], ...] = (
    (0x42, 0x4F, 0x40, "constrained baseline"),   # x1xx0000
    (0x4D, 0x8F, 0x80, "constrained baseline"),   # 1xxx0000
    (0x58, 0xCF, 0xC0, "constrained baseline"),   # 11xx0000
    (0x42, 0x4F, 0x00, "baseline"),               # x0xx0000
    (0x58, 0xCF, 0x80, "baseline"),               # 10xx0000 (extended constrained to baseline)
    (0x58, 0xC0, 0x00, "extended"),
    (0x4D, 0xAF, 0x00, "main"),                   # 0x0x0000
    (0x64, 0xFF, 0x00, "high"),                   # 00000000
    (0x64, 0xFF, 0x0C, "constrained high"),       # 00001100
    (0x64, 0xF3, 0x00, "high"),                   # progressive / other constraint flags
    (0x6E, 0x00, 0x00, "high 10"),
    (0x7A, 0x00, 0x00, "high 4:2:2"),
    (0xF4, 0x00, 0x00, "high 4:4:4 predictive"),
    (0x2C, 0x00, 0x00, "CAVLC 4:4:4 intra"),
)


@dataclass(frozen=True)
class H264ProfileLevel:
    profile: str
    level: str
    profile_idc: int
    profile_iop: int
    level_idc: int


def decode_h264_profile_level_id(value: str) -> H264ProfileLevel | None:
    """`42e01f` -> constrained baseline, level 3.1. None when the hex is malformed."""
    text = value.strip()
    if not _HEX6.fullmatch(text):
        return None
    raw = int(text, 16)
    profile_idc, profile_iop, level_idc = raw >> 16, (raw >> 8) & 0xFF, raw & 0xFF
    profile = next(
        (name for idc, mask, want, name in _H264_PROFILES if idc == profile_idc and profile_iop & mask == want),
        f"unknown (profile_idc 0x{profile_idc:02x})",
    )
    if level_idc == 11 and profile_iop & 0x10 and profile in ("baseline", "constrained baseline", "main"):
        level = "1b"  # constraint_set3 with level_idc 11 means 1b for these profiles
    elif level_idc == 9:
        level = "1b"
    else:
        level = f"{level_idc // 10}.{level_idc % 10}" if level_idc % 10 else f"{level_idc // 10}"
    return H264ProfileLevel(profile, level, profile_idc, profile_iop, level_idc)


@dataclass(frozen=True)
class OpusParams:
    """Opus fmtp (RFC 7587 §6.1), read the way a reader wants it."""

    inband_fec: bool
    dtx: bool
    stereo: bool
    sprop_stereo: bool
    cbr: bool
    minptime: int | None
    ptime: int | None
    maxptime: int | None
    max_average_bitrate: int | None
    max_playback_rate: int | None


def _flag(fmtp: dict[str, str], key: str) -> bool:
    return fmtp.get(key, "0").strip() == "1"


def int_or_none(value: Any) -> int | None:
    """An SDP number, or None when absent or not a number (the model keeps what it cannot read)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def decode_opus(fmtp: dict[str, str], ptime: int | None = None, maxptime: int | None = None) -> OpusParams:
    return OpusParams(
        inband_fec=_flag(fmtp, "useinbandfec"),
        dtx=_flag(fmtp, "usedtx"),
        stereo=_flag(fmtp, "stereo"),
        sprop_stereo=_flag(fmtp, "sprop-stereo"),
        cbr=_flag(fmtp, "cbr"),
        minptime=int_or_none(fmtp.get("minptime")),
        ptime=int_or_none(fmtp.get("ptime")) or ptime,
        maxptime=int_or_none(fmtp.get("maxptime")) or maxptime,
        max_average_bitrate=int_or_none(fmtp.get("maxaveragebitrate")),
        max_playback_rate=int_or_none(fmtp.get("maxplaybackrate")),
    )


def parse_fmtp(config: str) -> dict[str, str]:
    """`a=fmtp` parameters as a dict; a bare value (e.g. RED's `111/111`) is kept under ''."""
    params: dict[str, str] = {}
    for part in config.split(";"):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if sep:
            params[key.strip()] = value.strip()
        else:
            params[""] = f"{params['']};{part}" if "" in params else part
    return params


#: The fmtp parameters that make a different codec of the same name (RFC 6184 §8.2.2, RFC 7798,
#: the VP9 and AV1 RTP payload specs), with the value an absent parameter means ("" = no default).
IDENTITY_PARAMETERS: dict[str, dict[str, str]] = {
    "h264": {"profile-level-id": "42000a", "packetization-mode": "0"},
    "h265": {"profile-id": "", "tier-flag": "", "level-id": ""},
    "vp9": {"profile-id": ""},
    "av1": {"profile": ""},
}


@dataclass
class Codec:
    """One payload type of an m-line, with its fmtp, feedback and association."""

    payload_type: int
    name: str
    clock_rate: int
    channels: int | None = None
    fmtp: dict[str, str] = field(default_factory=dict)
    rtcp_fb: list[str] = field(default_factory=list)
    associated_payload_type: int | None = None  # rtx apt=, or the primary of a RED pair
    redundant_payload_types: list[int] = field(default_factory=list)  # RED's 111/111

    @property
    def display_name(self) -> str:
        return CODEC_DISPLAY.get(self.name.lower(), self.name)

    @property
    def role(self) -> str:
        """'media', or what auxiliary job the payload type does (rtx, red, fec, cn, dtmf)."""
        return AUXILIARY_ROLES.get(self.name.lower(), "media")

    @property
    def h264(self) -> H264ProfileLevel | None:
        if self.name.lower() != "h264" or "profile-level-id" not in self.fmtp:
            return None
        return decode_h264_profile_level_id(self.fmtp["profile-level-id"])

    @property
    def opus(self) -> OpusParams | None:
        return decode_opus(self.fmtp) if self.name.lower() == "opus" else None

    @property
    def identity(self) -> str:
        """What the codec *is*, independent of its payload type number (used to compare SDPs):
        name, rate, channels and the fmtp parameters that make a different codec."""
        base = f"{self.name.lower()}/{self.clock_rate}" + (f"/{self.channels}" if self.channels else "")
        defaults = IDENTITY_PARAMETERS.get(self.name.lower(), {})
        params = [(key, self.fmtp.get(key, default).lower()) for key, default in defaults.items()
                  if key in self.fmtp or default]
        return base + "".join(f";{key}={value}" for key, value in params)

    @property
    def label(self) -> str:
        """Short human label, e.g. `H.264 (42e01f constrained baseline 3.1, packetization-mode=1)`."""
        h264 = self.h264
        if h264:
            mode = self.fmtp.get("packetization-mode", "0")
            return f"{self.display_name} ({self.fmtp['profile-level-id']} {h264.profile} {h264.level}, " \
                   f"packetization-mode={mode})"
        return self.display_name

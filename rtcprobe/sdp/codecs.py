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


#: What an absent fmtp parameter means, per codec (the payload format specs' defaults). A parameter
#: written with its default value and the same parameter omitted are the same thing, so every
#: comparison (codec identity, fmtp diff) reads the *effective* values from `effective_fmtp`.
FMTP_DEFAULTS: dict[str, dict[str, str]] = {
    # RFC 6184 §8.1: profile-level-id 42000a (baseline, level 1), packetization-mode 0,
    # level-asymmetry-allowed 0
    "h264": {"profile-level-id": "42000a", "packetization-mode": "0", "level-asymmetry-allowed": "0"},
    # RFC 7798 §7.1: profile-id 1 (Main), tier-flag 0, level-id 93 (level 3.1)
    "h265": {"profile-id": "1", "tier-flag": "0", "level-id": "93"},
    # RFC 9628 §6.1 (VP9 RTP payload): profile-id 0
    "vp9": {"profile-id": "0"},
    # AV1 RTP payload spec §7.1: profile 0 (Main), level-idx 5, tier 0
    "av1": {"profile": "0", "level-idx": "5", "tier": "0"},
    # RFC 7587 §6.1: every flag defaults to 0; maxplaybackrate and sprop-maxcapturerate to 48000
    "opus": {"stereo": "0", "sprop-stereo": "0", "useinbandfec": "0", "usedtx": "0", "cbr": "0",
             "maxplaybackrate": "48000", "sprop-maxcapturerate": "48000"},
    # RFC 4733 §7.1.1 (audio/telephone-event): events 0-15, the DTMF digits
    "telephone-event": {"": "0-15"},
}

#: The fmtp parameters that make a different codec of the same name (RFC 6184 §8.2.2, RFC 7798,
#: the VP9 and AV1 RTP payload specs); their absence means the default above.
IDENTITY_PARAMETERS: dict[str, tuple[str, ...]] = {
    "h264": ("profile-level-id", "packetization-mode"),
    "h265": ("profile-id", "tier-flag", "level-id"),
    "vp9": ("profile-id",),
    "av1": ("profile",),
}

#: Parameters whose values are hex or tokens that may be written in any case.
_CASELESS = frozenset(["profile-level-id"])


#: (profile_idc, profile_iop) that libwebrtc writes for each profile: the canonical spelling of a
#: profile-level-id, so that `42c01f` and `42e01f` (both constrained baseline 3.1) read as one value.
_H264_CANONICAL: dict[str, tuple[int, int]] = {
    "constrained baseline": (0x42, 0xE0), "baseline": (0x42, 0x00), "main": (0x4D, 0x00),
    "extended": (0x58, 0x00), "high": (0x64, 0x00), "constrained high": (0x64, 0x0C),
    "high 10": (0x6E, 0x00), "high 4:2:2": (0x7A, 0x00), "high 4:4:4 predictive": (0xF4, 0x00),
    "CAVLC 4:4:4 intra": (0x2C, 0x00),
}


def canonical_profile_level_id(value: str) -> str:
    """The canonical hex of an H.264 profile-level-id (libwebrtc's spelling: the constraint flags
    that only restate the profile are normalised); lower-cased as written when it cannot be decoded."""
    decoded = decode_h264_profile_level_id(value)
    if decoded is None or decoded.profile not in _H264_CANONICAL:
        return value.strip().lower()
    idc, iop = _H264_CANONICAL[decoded.profile]
    level = decoded.level_idc
    if decoded.level == "1b" and decoded.profile in ("baseline", "constrained baseline", "main"):
        iop, level = iop | 0x10, 11  # level 1b: constraint_set3 with level_idc 11 (RFC 6184 §8.1)
    return f"{idc:02x}{iop:02x}{level:02x}"


def effective_fmtp(name: str, fmtp: dict[str, str]) -> dict[str, str]:
    """The fmtp a receiver acts on: names lower-cased (media type parameter names are
    case-insensitive, RFC 6838 §4.3), defaults filled in, hex values lower-cased and an H.264
    profile-level-id in its canonical spelling."""
    out = dict(FMTP_DEFAULTS.get(name.lower(), {}))
    for key, value in fmtp.items():
        key = key.strip().lower()
        out[key] = value.strip().lower() if key in _CASELESS else value.strip()
    if name.lower() == "h264":
        out["profile-level-id"] = canonical_profile_level_id(out["profile-level-id"])
    return out


def effective_channels(channels: int | None) -> int:
    """RFC 8866 §6.6: an audio rtpmap without encoding parameters has one channel (video has none,
    which reads the same way)."""
    return channels or 1


def codec_identity(name: str, clock_rate: int, channels: int | None, fmtp: dict[str, str]) -> str:
    """The one definition of "the same codec": name (any case), clock rate, channel count and the
    parameters that make another codec, all on their effective values. `G722/8000` and
    `G722/8000/1` are one codec; so are VP9 without profile-id and VP9 with profile-id=0."""
    key = name.lower()
    count = effective_channels(channels)
    base = f"{key}/{clock_rate}" + (f"/{count}" if count != 1 else "")
    params = effective_fmtp(key, fmtp)
    if key == "h264":
        # RFC 6184 §8.2.2: an answer may lower the level of the offered profile; the profile makes
        # the codec, the level is a parameter of it (compared as fmtp)
        decoded = decode_h264_profile_level_id(params["profile-level-id"])
        if decoded is not None and decoded.profile in _H264_CANONICAL:
            params["profile-level-id"] = decoded.profile
    return base + "".join(f";{p}={params.get(p, '')}" for p in IDENTITY_PARAMETERS.get(key, ()))


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
        """What the codec *is*, independent of its payload type number (see `codec_identity`)."""
        return codec_identity(self.name, self.clock_rate, self.channels, self.fmtp)

    @property
    def effective_fmtp(self) -> dict[str, str]:
        """fmtp as the receiver reads it: defaults filled in (see `effective_fmtp`)."""
        return effective_fmtp(self.name, self.fmtp)

    @property
    def label(self) -> str:
        """Short human label, e.g. `H.264 (42e01f constrained baseline 3.1, packetization-mode=1)`."""
        h264 = self.h264
        if h264:
            mode = self.fmtp.get("packetization-mode", "0")
            return f"{self.display_name} ({self.fmtp['profile-level-id']} {h264.profile} {h264.level}, " \
                   f"packetization-mode={mode})"
        return self.display_name

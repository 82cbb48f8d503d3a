"""Typed model of a session description: what sdp-transform parses, plus what it means."""

from __future__ import annotations

from dataclasses import dataclass, field

from .candidate import Candidate
from .codecs import Codec
from .extensions import extension_name


@dataclass(frozen=True)
class Attribute:
    """An `a=` line as written, with its line number (unknown ones are kept, never an error)."""

    name: str
    value: str | None
    line: int


@dataclass(frozen=True)
class HeaderExtension:
    id: int
    uri: str
    direction: str | None = None
    attributes: str | None = None

    @property
    def name(self) -> str:
        return extension_name(self.uri)

    @property
    def effective_direction(self) -> str:
        """RFC 8285 §5: an extmap without a direction is sendrecv."""
        return self.direction or "sendrecv"


@dataclass(frozen=True)
class Fingerprint:
    algorithm: str
    value: str


@dataclass(frozen=True)
class SsrcGroup:
    semantics: str  # FID (RTX), SIM (simulcast), FEC-FR ...
    ssrcs: tuple[int, ...]


@dataclass(frozen=True)
class Rid:
    id: str
    direction: str
    params: str | None = None


@dataclass(frozen=True)
class Group:
    semantics: str  # BUNDLE, LS ...
    mids: tuple[str, ...]


@dataclass(frozen=True)
class Origin:
    username: str
    session_id: str
    session_version: str
    address: str


@dataclass
class MediaSection:
    """One m-line and its attributes, with session-level defaults already applied."""

    index: int
    kind: str
    port: int
    protocol: str
    formats: list[str]
    mid: str | None = None
    direction: str = "sendrecv"
    bundled: bool = False
    rtcp_mux: bool = False
    rtcp_rsize: bool = False
    setup: str | None = None
    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    ice_options: list[str] = field(default_factory=list)
    fingerprints: list[Fingerprint] = field(default_factory=list)
    codecs: list[Codec] = field(default_factory=list)
    extensions: list[HeaderExtension] = field(default_factory=list)
    extmap_allow_mixed: bool = False
    ssrcs: dict[int, dict[str, str]] = field(default_factory=dict)
    ssrc_groups: list[SsrcGroup] = field(default_factory=list)
    rids: list[Rid] = field(default_factory=list)
    simulcast: str | None = None
    sctp_port: int | None = None
    max_message_size: int | None = None
    candidates: list[Candidate] = field(default_factory=list)
    end_of_candidates: bool = False
    msid: str | None = None
    ptime: int | None = None
    maxptime: int | None = None
    crypto: list[str] = field(default_factory=list)  # SDES-SRTP keys (a=crypto), legacy
    connection_address: str | None = None
    attributes: list[Attribute] = field(default_factory=list)
    unknown_attributes: list[Attribute] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        """Port 0 means the answerer turned the m-line down (RFC 3264 §6)."""
        return self.port == 0 and not self.bundle_only

    @property
    def bundle_only(self) -> bool:
        return any(a.name == "bundle-only" for a in self.attributes)

    @property
    def is_datachannel(self) -> bool:
        return self.kind == "application" and "SCTP" in self.protocol.upper()

    @property
    def effective_sctp_port(self) -> int | None:
        """RFC 8841 §5.1: a data channel m-line without a=sctp-port uses 5000."""
        return self.sctp_port if self.sctp_port is not None or not self.is_datachannel else 5000

    @property
    def effective_max_message_size(self) -> int | None:
        """RFC 8841 §6.1: without a=max-message-size the peer takes 64 KiB (65536); 0 means no limit."""
        return self.max_message_size if self.max_message_size is not None or not self.is_datachannel else 65536

    @property
    def media_codecs(self) -> list[Codec]:
        return [c for c in self.codecs if c.role == "media"]

    def codec(self, payload_type: int) -> Codec | None:
        return next((c for c in self.codecs if c.payload_type == payload_type), None)

    @property
    def label(self) -> str:
        return f"{self.kind} (mid {self.mid})" if self.mid is not None else f"{self.kind} (m-line {self.index})"


@dataclass
class SessionDescription:
    """A parsed offer, answer, or a bare set of candidate lines (``fragment``)."""

    source: str
    text: str
    type: str | None = None  # "offer" | "answer" | None when unknown
    origin: Origin | None = None
    name: str | None = None
    groups: list[Group] = field(default_factory=list)
    msid_semantic: str | None = None  # the semantic token ("WMS"), however the line was spelled
    msid_stream_ids: list[str] = field(default_factory=list)  # what follows it: stream ids or "*"
    ice_lite: bool = False  # a=ice-lite at session level, or at media level (werift)
    ice_options: list[str] = field(default_factory=list)  # session-level a=ice-options, one per token
    media: list[MediaSection] = field(default_factory=list)
    fragment: bool = False
    loose_candidates: list[Candidate] = field(default_factory=list)
    loose_end_of_candidates: bool = False
    attributes: list[Attribute] = field(default_factory=list)
    unknown_attributes: list[Attribute] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def groups_of(self, semantics: str) -> list[Group]:
        """`a=group:` lines of one semantics (case-insensitive): BUNDLE (RFC 9143), LS (lip sync,
        RFC 5888), FID, ..."""
        return [g for g in self.groups if g.semantics.upper() == semantics.upper()]

    @property
    def bundle_groups(self) -> list[Group]:
        return self.groups_of("BUNDLE")

    @property
    def lip_sync_groups(self) -> list[Group]:
        """`a=group:LS`: m-lines whose streams the receiver plays in sync (RFC 5888 §7)."""
        return self.groups_of("LS")

    @property
    def all_ice_options(self) -> list[str]:
        """Every ICE option in force: session level, then each m-line's (ice2, trickle, ...)."""
        return list(dict.fromkeys(self.ice_options + [o for m in self.media for o in m.ice_options]))

    @property
    def candidates(self) -> list[Candidate]:
        """Every candidate: per m-line, then those of a candidates-only fragment."""
        return [c for m in self.media for c in m.candidates] + self.loose_candidates

    @property
    def end_of_candidates(self) -> bool:
        return self.loose_end_of_candidates or any(m.end_of_candidates for m in self.media)

    def media_of_kind(self, kind: str) -> list[MediaSection]:
        return [m for m in self.media if m.kind == kind]

    def section(self, mid: str) -> MediaSection | None:
        return next((m for m in self.media if m.mid == mid), None)

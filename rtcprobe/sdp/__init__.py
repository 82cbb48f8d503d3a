"""The SDP model: parse session descriptions into typed objects that say what they mean."""

from .candidate import Candidate, parse_candidate
from .codecs import (
    Codec,
    H264ProfileLevel,
    OpusParams,
    codec_identity,
    decode_h264_profile_level_id,
    decode_opus,
    effective_fmtp,
)
from .errors import CandidateError, SdpError
from .extensions import WELL_KNOWN_EXTENSIONS, extension_name
from .model import (
    Attribute,
    Fingerprint,
    Group,
    HeaderExtension,
    MediaSection,
    Origin,
    Rid,
    SessionDescription,
    SsrcGroup,
)
from .parse import load_description, parse_description
from .priority import DecodedPriority, compute_priority, decode_priority

__all__ = [
    "Attribute", "Candidate", "CandidateError", "Codec", "DecodedPriority", "Fingerprint", "Group",
    "H264ProfileLevel", "HeaderExtension", "MediaSection", "OpusParams", "Origin", "Rid", "SdpError",
    "SessionDescription", "SsrcGroup", "WELL_KNOWN_EXTENSIONS", "codec_identity", "compute_priority",
    "decode_h264_profile_level_id", "decode_opus", "decode_priority", "effective_fmtp", "extension_name",
    "load_description", "parse_candidate", "parse_description",
]

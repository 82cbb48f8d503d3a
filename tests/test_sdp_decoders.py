"""Every decoder that turns SDP tokens into meaning."""

import pytest

from rtcprobe.sdp import (
    compute_priority,
    decode_h264_profile_level_id,
    decode_priority,
    parse_candidate,
)
from rtcprobe.sdp.codecs import codec_identity, decode_opus, effective_fmtp, parse_fmtp
from rtcprobe.sdp.errors import CandidateError
from rtcprobe.sdp.extensions import extension_name


@pytest.mark.parametrize(
    ("plid", "profile", "level"),
    [
        ("42001f", "baseline", "3.1"),
        ("42e01f", "constrained baseline", "3.1"),
        ("42c01f", "constrained baseline", "3.1"),
        ("4d001f", "main", "3.1"),
        ("4d0032", "main", "5"),
        ("640032", "high", "5"),
        ("640c1f", "constrained high", "3.1"),
        ("f4001f", "high 4:4:4 predictive", "3.1"),
        ("42e00b", "constrained baseline", "1.1"),
        ("42f00b", "constrained baseline", "1b"),
        ("42100b", "baseline", "1b"),  # constraint_set3 + level_idc 11 -> 1b
        ("58a01e", "baseline", "3"),
    ],
)
def test_h264_profile_level_id(plid: str, profile: str, level: str) -> None:
    decoded = decode_h264_profile_level_id(plid)
    assert decoded is not None
    assert (decoded.profile, decoded.level) == (profile, level)


@pytest.mark.parametrize("bad", ["", "42e0", "zzzzzz", "42e01f00"])
def test_h264_profile_level_id_malformed(bad: str) -> None:
    assert decode_h264_profile_level_id(bad) is None


def test_opus_flags() -> None:
    params = decode_opus(parse_fmtp("minptime=10;useinbandfec=1;usedtx=1;stereo=1;maxaveragebitrate=64000"), ptime=20)
    assert params.inband_fec and params.dtx and params.stereo
    assert not params.cbr and not params.sprop_stereo
    assert params.minptime == 10 and params.ptime == 20 and params.max_average_bitrate == 64000
    plain = decode_opus(parse_fmtp("minptime=10;useinbandfec=0"))
    assert not plain.inband_fec and not plain.dtx and plain.max_average_bitrate is None


def test_fmtp_bare_value_kept() -> None:
    assert parse_fmtp("111/111") == {"": "111/111"}


@pytest.mark.parametrize(
    ("cand_type", "transport", "type_pref", "local_pref", "component"),
    [("host", "udp", 126, 65535, 1), ("srflx", "udp", 100, 32767, 1), ("prflx", "udp", 110, 100, 2),
     ("relay", "udp", 0, 65535, 1)],
)
def test_priority_roundtrip_matches_type(cand_type, transport, type_pref, local_pref, component) -> None:
    priority = compute_priority(type_pref, local_pref, component)
    decoded = decode_priority(priority, cand_type, component, transport)
    assert (decoded.type_preference, decoded.local_preference, decoded.component) == (type_pref, local_pref, component)
    assert decoded.matches_type and decoded.note == ""


def test_priority_study_values() -> None:
    udp = decode_priority(2130706431, "host", 1, "udp")
    assert (udp.type_preference, udp.local_preference, udp.component) == (126, 65535, 1)
    tcp = decode_priority(1671430143, "host", 1, "tcp")
    assert (tcp.type_preference, tcp.local_preference, tcp.component) == (99, 40959, 1)
    assert not tcp.matches_type and "RFC 6544" in tcp.note


def test_priority_flags_mismatches() -> None:
    chrome_relay = decode_priority(41885439, "relay", 1, "udp")  # Chrome's relay: type preference 2
    assert chrome_relay.type_preference == 2 and not chrome_relay.matches_type
    assert "RFC 8445" in chrome_relay.note
    wrong_component = decode_priority(2130706431, "host", 2, "udp")
    assert not wrong_component.matches_type and "component 1, line says 2" in wrong_component.note


def test_candidate_full_grammar() -> None:
    c = parse_candidate(
        "a=candidate:842163049 1 udp 1677729535 203.0.113.7 61721 typ srflx raddr 10.0.0.5 rport 61721 "
        "generation 0 ufrag Ab/1 network-id 3 network-cost 10 x-custom yes"
    )
    assert (c.foundation, c.component, c.transport, c.type) == ("842163049", 1, "udp", "srflx")
    assert (c.raddr, c.rport, c.generation, c.ufrag, c.network_id, c.network_cost) == (
        "10.0.0.5", 61721, 0, "Ab/1", 3, 10)
    assert c.extras == (("x-custom", "yes"),)
    assert c.address_family == "IPv4" and not c.is_mdns
    assert parse_candidate(c.to_sdp()) == c


def test_candidate_tcptype_and_mdns_and_ipv6() -> None:
    tcp = parse_candidate("candidate:1 1 TCP 1518280447 4f6e1c0e-1b35-4f0e-9f3b-6a1d2f7a9b10.local 9 typ host tcptype active")
    assert tcp.transport == "tcp" and tcp.tcptype == "active"
    assert tcp.is_mdns and tcp.address_family == "mDNS"
    v6 = parse_candidate("candidate:2 1 udp 2122262783 2001:db8::1 50000 typ host")
    assert v6.address_family == "IPv6"


@pytest.mark.parametrize(
    "bad",
    ["candidate:1 1 udp", "candidate:1 x udp 1 1.2.3.4 1 typ host", "candidate:1 1 udp 1 1.2.3.4 99999 typ host",
     "candidate:1 1 udp 1 1.2.3.4 1 host host", "candidate:1 x udp 1 1.2.3.4 1 typ host generation 0"],
)
def test_candidate_errors(bad: str) -> None:
    with pytest.raises(CandidateError):
        parse_candidate(bad)


def test_cut_extension_and_empty_foundation_are_anomalies() -> None:
    """Candidates whose core is whole are kept; what departs from the grammar is named on them."""
    cut = parse_candidate("candidate:1 1 udp 1 1.2.3.4 1 typ host generation")
    assert cut.anomalies == ["extension attribute 'generation' has no value (RFC 8839: name and value)"]
    empty = parse_candidate("candidate: 1 udp 2113939711 2a00:1450:4010:c01::7f 3478 typ host generation 0")
    assert (empty.foundation, empty.component, empty.address) == ("", 1, "2a00:1450:4010:c01::7f")
    assert empty.anomalies == ["empty foundation (RFC 8839: 1 to 32 ice-chars)"]
    assert parse_candidate("candidate:a_b 1 udp 1 1.2.3.4 1 typ host").anomalies == [
        "foundation 'a_b' is not 1 to 32 ice-chars (ALPHA / DIGIT / + /)"]


def test_extension_names() -> None:
    assert extension_name("http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01") == "transport-cc"
    assert extension_name("urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id") == "repaired-rid"
    assert extension_name("urn:example:unknown") == "urn:example:unknown"


@pytest.mark.parametrize(("line", "anomalies"), [
    ("candidate:1 1 udp 2130706431 192.0.2.1 9 typ host", []),
    ("candidate:1 1 tcp 1518280447 192.0.2.1 9 typ host tcptype passive", []),
    ("candidate:1 1 xyz 2130706431 192.0.2.1 9 typ host", ["transport 'xyz' is neither UDP nor TCP"]),
    ("candidate:1 1 udp 2130706431 192.0.2.1 9 typ HOST",
     ["candidate type 'HOST' is not host, srflx, prflx or relay"]),
    ("candidate:1 1 udp 2130706431 192.0.2.1 9 typ host tcptype active", ["tcptype on a UDP candidate"]),
    ("candidate:1 1 tcp 1518280447 192.0.2.1 9 typ host",
     ["TCP candidate with tcptype missing (RFC 6544: active, passive or so)"]),
])
def test_candidate_anomalies_are_named(line: str, anomalies: list[str]) -> None:
    assert parse_candidate(line).anomalies == anomalies


@pytest.mark.parametrize(("a", "b", "same"), [
    (("G722", 8000, None, {}), ("g722", 8000, 1, {}), True),  # audio channels default to 1 (RFC 8866 §6.6)
    (("opus", 48000, 2, {}), ("opus", 48000, None, {}), False),
    (("VP9", 90000, None, {}), ("VP9", 90000, None, {"profile-id": "0"}), True),  # RFC 9628 §6.1
    (("VP9", 90000, None, {}), ("VP9", 90000, None, {"profile-id": "2"}), False),
    (("H264", 90000, None, {}), ("H264", 90000, None, {"profile-level-id": "42000A", "packetization-mode": "0"}), True),
    (("H264", 90000, None, {"packetization-mode": "1"}), ("H264", 90000, None, {"packetization-mode": "0"}), False),
    (("H264", 90000, None, {"profile-level-id": "42e01f"}), ("H264", 90000, None, {"Profile-Level-Id": "42E01F"}), True),
    (("AV1", 90000, None, {}), ("AV1", 90000, None, {"profile": "0"}), True),
    (("AV1", 90000, None, {"profile": "1"}), ("AV1", 90000, None, {}), False),
    (("H265", 90000, None, {}), ("H265", 90000, None, {"profile-id": "1", "tier-flag": "0", "level-id": "93"}), True),
])
def test_codec_identity_reads_effective_values(a: tuple, b: tuple, same: bool) -> None:
    assert (codec_identity(*a) == codec_identity(*b)) is same


def test_effective_fmtp_fills_rfc_defaults() -> None:
    assert effective_fmtp("opus", {"useinbandfec": "1"}) == {
        "stereo": "0", "sprop-stereo": "0", "useinbandfec": "1", "usedtx": "0", "cbr": "0",
        "maxplaybackrate": "48000", "sprop-maxcapturerate": "48000"}
    assert effective_fmtp("telephone-event", {}) == {"": "0-15"}
    assert effective_fmtp("VP8", {"max-fr": "30"}) == {"max-fr": "30"}  # no defaults known: as written

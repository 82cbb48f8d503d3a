"""The profile describes the whole session, on real inputs (tests/data/realworld, see SOURCES):
every m-line of a kind, DTLS without RTP, SDES next to DTLS, all-rejected m-lines, media-level
spellings, and feedback/extensions as the intersection of offer and answer."""

from pathlib import Path

from rtcprobe.analyze.profile import profile
from rtcprobe.inputs import load_negotiation, load_negotiations
from rtcprobe.negotiation import Negotiation

REAL = Path(__file__).parent / "data" / "realworld"
SDP = REAL / "sdp"
DUMP = REAL / "dumps" / "chromium-renegotiation-trickle.json.gz"


def row(path: Path, aspect: str, **kwargs):
    return profile(load_negotiation(path, **kwargs)).row(aspect)


def test_chrome_offer_with_vp9_on_mid_1_and_vp8_on_mid_2_is_not_vp9_only() -> None:
    video = row(SDP / "pion-test-chrome-offer-simulcast-vp9-mid1-vp8-mid2.sdp", "Video")
    assert video.summary == ("mid 1: VP9 only, simulcast (2 layers), no RTX (sendonly); "
                             "mid 2: VP8 only, no simulcast, no RTX (sendonly)")
    assert [(s["mid"], s["codecs"]) for s in video.facts["sections"]] == [("1", ["VP9"]), ("2", ["VP8"])]


def test_second_video_transceiver_recvonly_is_described_not_inactive() -> None:
    """Chromium's offer (recorded): the camera on mid 1, a recvonly transceiver on mid 2 (which
    also lists the receive-only codecs: FlexFEC, H.264 High 4:4:4)."""
    offer = load_negotiation(DUMP, pc="9-1", round=1).offer
    video = profile(Negotiation("Chromium offer", offer=offer)).row("Video")
    assert video.summary.startswith("mid 1: VP8, H.264, AV1, VP9, no simulcast, RTX, RED, ULPFEC;")
    assert video.summary.endswith("(recvonly)") and "inactive" not in video.summary
    assert video.facts["directions"] == {"1": "sendrecv", "2": "recvonly"}


def test_the_answer_says_each_m_line_direction() -> None:
    """The answer to it (Chromium, nothing to send): video recvonly on mid 1, inactive on mid 2."""
    video = profile(load_negotiation(DUMP, pc="9-1", round=1)).row("Video")
    assert video.facts["directions"] == {"1": "recvonly", "2": "inactive"}
    first, second = video.summary.split("; mid 2: ")
    assert first.startswith("mid 1: ") and first.endswith("(recvonly)") and second.endswith("(inactive)")


def test_an_inactive_first_video_m_line_does_not_hide_the_second() -> None:
    """Chime's answer to Firefox: H.264 on mid 1 turned inactive, VP8 sent on mid 2."""
    video = row(SDP / "chime-firefox-remote-answer-vp8-only.sdp", "Video")
    assert video.summary == ("mid 1: H.264 only, no simulcast, no RTX; profiles constrained baseline (inactive); "
                             "mid 2: VP8 only, no simulcast, no RTX (sendonly)")


def test_m_lines_that_agree_are_one_summary_with_their_directions() -> None:
    """Firefox 68 offer with five video transceivers in every direction."""
    video = row(SDP / "chime-firefox68-offer-video-multiple.sdp", "Video")
    assert video.summary == ("VP8, VP9, H.264, no simulcast, no RTX; profiles constrained baseline "
                             "(sendrecv on mids 1 and 2, recvonly on mid 3, sendonly on mid 4, inactive on mid 5)")
    assert video.facts["mids"] == ["1", "2", "3", "4", "5"]


def test_datachannel_only_session_is_dtls_not_plain_rtp() -> None:
    for name in ("aiortc-datachannel_firefox_63-1.sdp", "werift-offer-data.sdp"):
        srtp = row(SDP / name, "SRTP encryption")
        assert srtp.summary == "no RTP: DTLS only (SCTP over DTLS for the data channel)", name
        assert srtp.facts["fingerprint_algorithms"] == ["sha-256"]


def test_sdes_keys_offered_alongside_a_fingerprint_are_said() -> None:
    srtp = row(SDP / "sdptransform-jssip.sdp", "SRTP encryption")  # JsSIP's Chrome offer (2014)
    assert srtp.summary == "standard DTLS-SRTP, SDES keys (a=crypto) offered alongside"
    assert srtp.facts["sdes"] is True


def test_all_m_lines_port_zero_are_listed_not_no_media_sections() -> None:
    """Chromium re-offer after stopping its only transceiver (recorded)."""
    pc = row(SDP / "chromium-offer-all-transceivers-stopped.sdp", "PeerConnection")
    assert pc.summary == "no media in use: every m-line is rejected (port 0): audio (mid 0)"
    assert pc.facts["rejected_mids"] == ["0"]
    # The same session in the dump, described from its last round.
    assert row(DUMP, "PeerConnection", pc="9-3").summary == pc.summary


def test_media_level_and_comma_spellings_reach_the_ice_and_peerconnection_rows() -> None:
    ice = row(SDP / "werift-offer-icelite-audio-video-data.sdp", "ICE/TURN")  # a=ice-lite under each m-line
    assert ice.summary.endswith("; ICE-lite") and ice.facts["ice_lite"] is True
    offer = SDP / "libdatachannel-offer-audio-data.sdp"  # a=ice-options:ice2,trickle and a=group:LS audio
    assert row(offer, "ICE/TURN").facts["ice_options"] == ["ice2", "trickle"]
    pc = row(offer, "PeerConnection")
    assert pc.summary == "a single PeerConnection using BUNDLE; LS group (lip-sync) of mids audio"
    assert pc.facts["other_groups"] == [{"semantics": "LS", "mids": ["audio"]}]


def test_feedback_the_answer_added_unasked_is_a_finding_not_negotiated() -> None:
    """Janus answered rtcp-fb transport-cc on VP8; Firefox 59 had not offered it."""
    result = profile(load_negotiation(SDP / "janus-echotest-firefox59-offer-answer.json"))
    rtcp = result.row("RTCP")
    assert rtcp.summary == "bandwidth estimation with REMB; NACK, PLI and FIR (no RTX)"
    assert "transport-cc" not in rtcp.facts["feedback"] and rtcp.facts["transport_cc"] is False
    assert result.added == ["video (mid sdparta_1): rtcp-fb transport-cc (on VP8)"]
    # The answer lists no header extensions at all: none are in use.
    assert result.row("RTP header extensions").summary == "none"


def test_extensions_in_use_are_those_both_sides_listed() -> None:
    """Chromium answering a Janus VideoRoom offer (recorded): what both listed, nothing added."""
    result = profile(load_negotiations(DUMP, pc="9-5")[0])
    assert result.added == []
    assert result.row("RTP header extensions").summary == (
        "MID for audio and video; audio level for audio; abs-send-time, video-orientation, "
        "transport-wide-cc, playout-delay for video")

"""The study's two tables (DESIGN.md §1), reproduced row by row from the bundled snapshots."""

import json
import subprocess
import sys
from pathlib import Path

from rtcprobe.analyze.diff import diff
from rtcprobe.analyze.profile import profile
from rtcprobe.inputs import load_negotiation

CAPTURES = Path(__file__).resolve().parents[1] / "captures"

PROFILE_TABLE = [
    ("PeerConnection", "a single PeerConnection using BUNDLE"),
    ("ICE/TURN", "host candidates only (no STUN or TURN server)"),
    ("SRTP encryption", "standard DTLS-SRTP"),
    ("Audio", "Opus with in-band FEC, PCMU/PCMA fallback; no DTX, no RED"),
    ("Video", "H.264 only, no simulcast, no RTX; profiles baseline, constrained baseline, main, high"),
    ("DataChannels", "standard SCTP over DTLS"),
    ("RTP header extensions", "transport-wide-cc for audio and video; RID, repaired RID"),
    ("RTCP", "bandwidth estimation with transport-cc; NACK and PLI (no FIR, REMB or RTX)"),
    ("Interface", "WHIP-like, but not spec WHIP (multipart form with `sdp` and `session` fields)"),
]

CANDIDATE_TABLE = [
    ("IPs advertised", "1", "3"),
    ("transports", "UDP, TCP", "UDP, TCP"),
    ("ports", "3478 for UDP and TCP", "3478 for UDP only; 443 for TCP"),
    ("separate RTCP candidate", "yes", "no"),
    ("candidate count", "4", "6"),
    ("end-of-candidates", "present", "absent"),
    ("candidate type", "host", "host"),
    ("UDP priority", "2130706431", "2130706431"),
    ("TCP priority", "1671430143", "1671430143"),
]


def test_profile_table_of_ga_snapshot() -> None:
    result = profile(load_negotiation(CAPTURES / "openai-ga-2025-09.json"))
    assert [(r.aspect, r.summary) for r in result.rows] == PROFILE_TABLE
    assert result.described == "negotiated"
    # The offer proposed VP8, RTX and REMB; the answer dropped them and the profile says so.
    assert any("VP8" in d and "RTX" in d for d in result.dropped)
    assert any("goog-remb" in d for d in result.dropped)


def test_profile_of_bare_answer_has_no_interface_row() -> None:
    result = profile(load_negotiation(CAPTURES / "openai-ga-2025-09-answer.sdp"))
    assert [(r.aspect, r.summary) for r in result.rows] == PROFILE_TABLE[:-1]


def test_candidate_table_from_study_snippets() -> None:
    result = diff(load_negotiation(CAPTURES / "openai-2024-11-candidates.txt"),
                  load_negotiation(CAPTURES / "openai-2025-09-candidates.txt"))
    assert [(r.field, r.a, r.b) for r in result.candidate_table] == CANDIDATE_TABLE
    assert result.semantic_change and not result.changes  # the table is the whole story


def test_candidate_table_from_answer_snapshots() -> None:
    result = diff(load_negotiation(CAPTURES / "openai-2024-11-answer.sdp"),
                  load_negotiation(CAPTURES / "openai-2025-09-answer.sdp"))
    assert [(r.field, r.a, r.b) for r in result.candidate_table] == CANDIDATE_TABLE
    # the ufrag's value is volatile, its shape is not: OpenAI now encodes routing data in it
    assert [(c.area, c.a, c.b) for c in result.changes] == [
        ("ice", "16 chars, alphanumeric", "11 chars, alphanumeric and '/', 2 segments of 8+2")]
    volatile = " ".join(c.summary for c in result.volatile)
    for word in ("session id", "ice-ufrag", "ice-pwd", "fingerprint", "SSRCs", "cnames", "msid"):
        assert word in volatile


def test_chatgpt_vs_api_is_one_line() -> None:
    result = diff(load_negotiation(CAPTURES / "openai-api-demo-offer.sdp"),
                  load_negotiation(CAPTURES / "chatgpt-web-offer.sdp"))
    assert [c.summary for c in result.changes] == ["video (mid 1): direction sendrecv → sendonly"]


def test_same_snapshot_twice_is_no_semantic_change() -> None:
    path = CAPTURES / "openai-ga-2025-09.json"
    result = diff(load_negotiation(path), load_negotiation(path))
    assert not result.semantic_change and result.changes == [] and result.volatile == []


def test_cli_reproduces_the_tables() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "rtcprobe.cli", "diff", str(CAPTURES / "openai-2024-11-candidates.txt"),
         str(CAPTURES / "openai-2025-09-candidates.txt"), "--json"],
        capture_output=True, text=True, check=True,
    )
    rows = json.loads(out.stdout)["candidate_table"]
    assert [(r["field"], r["a"], r["b"]) for r in rows] == CANDIDATE_TABLE
    out = subprocess.run([sys.executable, "-m", "rtcprobe.cli", "analyze", str(CAPTURES / "openai-ga-2025-09.json")],
                         capture_output=True, text=True, check=True)
    for aspect, _summary in PROFILE_TABLE:
        assert aspect in out.stdout
    assert "WHIP-like, but not spec WHIP" in out.stdout

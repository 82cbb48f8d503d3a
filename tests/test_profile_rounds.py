"""Sessions as they happened, on real records: renegotiation rounds (the last applied one by
default, `--round N` for another), trickled candidates seen by analyze and diff, and both
sides' candidates when the remote side offered."""

import json
import subprocess
import sys
from pathlib import Path

from rtcprobe.analyze.candidates import candidate_set, negotiated_candidates
from rtcprobe.analyze.diff import diff
from rtcprobe.analyze.profile import profile
from rtcprobe.importers import load_captures, write_captures
from rtcprobe.inputs import load_negotiation, load_negotiations

REAL = Path(__file__).parent / "data" / "realworld"
DUMP = REAL / "dumps" / "chromium-renegotiation-trickle.json.gz"  # see record-chromium-profile-sessions.py
RTCSTATS = REAL / "dumps" / "rtcstats-clienttest.json.gz"  # fippo/rtcstats-server test dump, Chrome


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rtcprobe.cli", *args], capture_output=True, text=True, timeout=120)


def test_renegotiated_session_is_described_from_its_last_round() -> None:
    """Chromium adds a data channel once connected: round 2 adds m=application."""
    session = load_negotiation(DUMP, pc="9-1")
    assert (session.round, session.round_count, session.local) == (2, 2, "offer")
    result = profile(session)
    assert result.row("DataChannels").summary == "standard SCTP over DTLS"
    assert (result.round, result.rounds) == (2, 2)
    first = profile(session.at_round(1))
    assert first.row("DataChannels").summary == "none" and first.round == 1
    changes = [c.summary for c in diff(session.at_round(1), session).changes]
    assert "application (mid 3): m-line added" in changes


def test_every_rounds_sdp_events_survive_import_and_capture_files(tmp_path: Path) -> None:
    capture = next(c for c in load_captures(DUMP, stats=False) if c.header["options"]["pc"] == "9-1")
    assert [(e["role"], e["type"]) for e in capture.of("sdp")] == [
        ("local", "offer"), ("remote", "answer"), ("local", "offer"), ("remote", "answer")]
    written = write_captures(DUMP, tmp_path, pc="9-1")
    from_file = load_negotiation(written[0].path)
    assert from_file.round_count == 2
    assert profile(from_file).row("DataChannels").summary == "standard SCTP over DTLS"


def test_trickled_candidates_belong_to_the_description_of_their_side() -> None:
    """The rtcstats dump logs the offer without candidates and 10 `onicecandidate` events."""
    capture = next(c for c in load_captures(RTCSTATS, stats=False) if c.header["options"]["pc"] == "PC_0")
    assert capture.offer.candidates == []  # as logged
    trickled = {(c.address, c.port, c.transport) for c in capture.candidate_list("local")}
    session = load_negotiation(RTCSTATS, pc="PC_0")
    attached = candidate_set(session.offer)
    assert attached.count == len(trickled) == 10
    assert {(r.address, r.port, r.transport) for r in attached.rows} == trickled
    # diff sees them too: the candidate table of the offers counts them.
    table = {r.field: (r.a, r.b) for r in diff(session, session, side="offer").candidate_table}
    assert table["candidate count"] == ("10", "10") and table["candidate type"] == ("host, srflx, relay",) * 2


def test_candidates_of_both_sides_when_the_remote_side_offered() -> None:
    """Chromium answering a Janus VideoRoom offer: the Janus side is the offer, remote."""
    session = load_negotiation(DUMP, pc="9-5")
    sides = negotiated_candidates(session)
    assert [(s.side, s.origin) for s in sides] == [("offer", "remote"), ("answer", "local")]
    assert sides[1].candidates.count > 0 and sides[0].candidates.count == 0
    assert profile(session).row("ICE/TURN").summary.startswith("the remote offer's: no candidates")


def test_candidates_of_both_sides_in_a_snapshot_without_sides() -> None:
    """Janus Streaming offers with its candidates; Chrome 58 answers with none (it trickled one)."""
    session = load_negotiation(REAL / "sdp" / "janus-streaming-offer-chrome58-answer.json")
    sides = negotiated_candidates(session)
    assert [(s.side, s.origin, s.candidates.count) for s in sides] == [("offer", None, 2), ("answer", None, 0)]
    assert profile(session).row("ICE/TURN").summary == (
        "the offer's: host candidates only (no STUN or TURN server); the answer has none (trickled separately, or none)")


def test_cli_round_and_both_sides() -> None:
    out = run("analyze", str(DUMP), "--pc", "9-1", "--round", "1", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert (doc["round"], doc["rounds"]) == (1, 2)
    assert next(r["summary"] for r in doc["profile"] if r["aspect"] == "DataChannels") == "none"
    assert [(s["side"], s["origin"]) for s in doc["candidates_by_side"]] == [("offer", "local"), ("answer", "remote")]
    text = run("analyze", str(DUMP), "--pc", "9-5").stdout
    assert "Candidates of the offer (remote): none" in text and "Candidates of the answer (local)" in text
    assert run("diff", str(DUMP), str(DUMP), "--pc", "9-1", "--round", "1", "--exit-code").returncode == 0
    bad = run("analyze", str(DUMP), "--pc", "9-1", "--round", "3")
    assert bad.returncode == 2 and "has 2 offer/answer round(s); there is no round 3" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert run("analyze", str(DUMP), "--round", "0").returncode == 2


def test_snapshot_has_one_round() -> None:
    session = load_negotiations(REAL / "sdp" / "janus-echotest-firefox59-offer-answer.json")[0]
    assert session.round_count == 1 and session.at_round(1) is session


def test_analyze_says_which_capture_lines_it_skipped(tmp_path: Path) -> None:
    """A capture line the reader drops (wrong field type) is named by analyze too, not only by report."""
    written = write_captures(DUMP, tmp_path, pc="9-1")[0].path
    with open(written, "a", encoding="utf-8") as f:
        f.write(json.dumps({"event": "http", "t": "late", "phase": "offer"}) + "\n")
    out = run("analyze", str(written))
    assert out.returncode == 0, out.stderr
    lines = len(Path(written).read_text(encoding="utf-8").splitlines())
    assert f":{lines}: " in out.stderr and "line skipped" in out.stderr

"""`diff` on one real Chromium offer and one-line variants of it: each variant is exactly one
semantic change (or none), as an engineer comparing two snapshots would read it."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtcprobe.analyze.diff import diff_descriptions
from rtcprobe.cli import main
from rtcprobe.sdp import parse_description

OFFER = (Path(__file__).resolve().parent / "data" / "chromium-offer.sdp").read_bytes().decode()


def changes(variant: str) -> list[str]:
    result = diff_descriptions(parse_description(OFFER, "a"), parse_description(variant, "b"))
    rows = [f"{r.field}: {r.a} → {r.b}" for r in result.candidate_table if r.changed and not r.volatile]
    return [c.summary for c in result.changes] + rows


def replace(old: str, new: str) -> str:
    assert old in OFFER, old
    return OFFER.replace(old, new)


@pytest.mark.parametrize(("variant", "expected"), [
    # trailing blanks and hex case are spelling, not meaning
    (OFFER.replace("\r\n", "  \r\n"), []),
    (replace("profile-level-id=42e01f", "profile-level-id=42E01F"), []),
    # constraint flags that only restate the profile: 42c01f is constrained baseline 3.1 too
    (replace("profile-level-id=42e01f", "profile-level-id=42c01f"), []),
    # the level is a parameter of the profile (RFC 6184 §8.2.2), not another codec
    (replace("profile-level-id=42e01f", "profile-level-id=42e01e"),
     ["video (mid 1): h264/90000 (constrained baseline, packetization-mode=1) fmtp profile-level-id 42e01f → 42e01e",
      "video (mid 1): h264/90000 (constrained baseline, packetization-mode=0) fmtp profile-level-id 42e01f → 42e01e"]),
    # packetization mode makes another codec (RFC 6184 §8.2.2): named in the label
    (replace("a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=1;",
             "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;"),
     ["video (mid 1): codecs removed: h264/90000 (constrained baseline, packetization-mode=1), "
      "rtx for h264/90000 (constrained baseline, packetization-mode=1)",
      "video (mid 1): codecs added: h264/90000 (constrained baseline, packetization-mode=0) #2, "
      "rtx for h264/90000 (constrained baseline, packetization-mode=0) #2"]),
    (replace("a=extmap-allow-mixed\r\n", ""), ["every m-line: extmap-allow-mixed True → False"]),
    (replace("a=group:BUNDLE 0 1 2\r\n", "a=group:BUNDLE 0 1 2\r\na=group:LS 0 1\r\n"),
     ["session: other groups none → LS 0 1"]),
    (replace("a=fmtp:111 minptime=10;useinbandfec=1\r\n", "a=fmtp:111 minptime=10;useinbandfec=1\r\na=maxptime:120\r\n"),
     ["audio (mid 0): maxptime none → 120"]),
    (replace("a=extmap-allow-mixed\r\n", "a=extmap-allow-mixed\r\na=x-vendor:on\r\n"),
     ["session: attributes added: a=x-vendor:on"]),
    (replace("a=rtcp-mux\r\n", "a=rtcp-mux\r\na=rtcp-mux-only\r\n"),
     ["audio (mid 0), video (mid 1): attributes added: a=rtcp-mux-only"]),
    (replace("a=msid-semantic: WMS 22461afb", "a=msid-semantic: WMS 99999afb"), []),  # ids are volatile
    (replace("a=msid-semantic: WMS 22461afb-086c-4b11-ae0c-2735c73064fe\r\n", ""),
     ["session: msid-semantic WMS → none"]),
    (replace("tcptype active", "tcptype passive"),
     ["candidates: TCP candidate types (tcptype) active → passive"]),
])
def test_one_line_variants(variant: str, expected: list[str]) -> None:
    assert changes(variant) == expected


def test_red_redundancy_is_compared() -> None:
    red = next(line for line in OFFER.split("\r\n") if line.startswith("a=fmtp:63 "))
    variant = replace(red, red + "/111")
    assert changes(variant) == ["audio (mid 0): red for opus/48000/2 redundancy 2 → 3"]


def test_h265_profiles_are_different_codecs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Two H.265 profiles (main, main 10) on one m-line: dropping one is a change, not a merge."""
    both = (
        "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96 97\r\n"
        "c=IN IP4 0.0.0.0\r\na=mid:0\r\na=rtpmap:96 H265/90000\r\na=fmtp:96 level-id=93;profile-id=1;tier-flag=0\r\n"
        "a=rtpmap:97 H265/90000\r\na=fmtp:97 level-id=93;profile-id=2;tier-flag=0\r\n"
    )
    one = both.replace(" 96 97\r\n", " 97\r\n")
    (tmp_path / "both.sdp").write_text(both)
    (tmp_path / "one.sdp").write_text(one)
    assert main(["diff", str(tmp_path / "both.sdp"), str(tmp_path / "one.sdp"), "--exit-code"]) == 1
    assert "codecs removed: h265/90000 (profile-id=1, tier-flag=0, level-id=93)" in capsys.readouterr().out


def test_markup_in_labels_and_transports_is_printed_as_text(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Rich would read `[/b]` as a closing tag and raise: file names, labels and SDP values are text."""
    sdp = tmp_path / "[red]x.txt"
    sdp.write_text("a=candidate:1 1 [/x] 2130706431 192.0.2.1 9 typ host\n")
    assert main(["analyze", str(sdp)]) == 0
    assert main(["diff", str(sdp), str(sdp), "--labels", "[/b],x"]) == 0
    out = capsys.readouterr().out
    assert "[/b]" in out and "[/X]" in out and "[red]x.txt" in out

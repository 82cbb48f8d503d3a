"""`rtcprobe matrix`: offer variants as data, each a real probe session against `rtcprobe serve`
on 127.0.0.1 with its codec knobs; the table shows exactly the codec restriction, and `diff` of
two matrix results shows a dropped codec."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from serve_process import RTCPROBE, free_port, serve_process

from rtcprobe.matrix.transform import apply_variant
from rtcprobe.matrix.variants import load_variants
from rtcprobe.profiles import load_offer_profile
from rtcprobe.sdp import parse_description


@contextmanager
def serving(port: int, *flags: str, log: Path) -> Iterator[str]:
    """`rtcprobe serve` on 127.0.0.1:PORT with FLAGS, in a subprocess; yields its WHIP URL."""
    with serve_process(log, *flags, port=port) as base:
        yield f"{base}/whip"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RTCPROBE, *args], capture_output=True, text=True, timeout=240)


def verdicts(document: dict) -> dict[str, str]:
    return {row["variant"]: row["verdict"] for row in document["rows"]}


# -- variants as data ------------------------------------------------------------------------------
def test_unknown_variant_key_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "mine.json"
    bad.write_text(json.dumps({"variants": [{"name": "vp9-high", "codec": {"video": ["VP9"]}}]}))
    out = run("matrix", "http://127.0.0.1:9/whip", "--variants", str(bad), "-o", str(tmp_path / "m"))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"rtcprobe: error: {bad}: variant #1 (vp9-high): unknown variant key 'codec' (one of name, about, media, "
        "datachannel, codecs, rtx, add_codecs, fmtp, extensions, drop_extensions, drop_feedback, bundle, rtcp_mux, candidates, "
        "simulcast)"]
    assert not (tmp_path / "m").exists()  # nothing written half-way
    out = run("matrix", "http://127.0.0.1:9/whip", "--variant", "video-vp10", "-o", str(tmp_path / "m"))
    assert out.returncode == 2 and "unknown variant 'video-vp10'" in out.stderr and "Traceback" not in out.stderr


def test_user_file_extends_and_replaces(tmp_path: Path) -> None:
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps({"variants": [{"name": "audio-opus", "about": "mine", "media": "audio",
                                              "codecs": {"audio": ["opus"]}},
                                             {"name": "vp8-no-nack", "drop_feedback": ["nack", "nack pli"]}]}))
    shipped = [v.name for v in load_variants()]
    extended = load_variants(str(mine))
    assert [v.name for v in extended] == [*shipped, "vp8-no-nack"]
    assert next(v for v in extended if v.name == "audio-opus").about == "mine"
    mine.write_text(json.dumps({"replace": True, "variants": [{"name": "only-one", "media": "audio"}]}))
    assert [v.name for v in load_variants(str(mine))] == ["only-one"]


def test_every_class_of_the_issue_is_a_shipped_variant() -> None:
    names = {v.name for v in load_variants()}
    for name in ("audio-opus", "audio-g722", "audio-pcmu", "audio-pcma", "video-vp8", "video-vp9", "video-av1",
                 "video-h265", "video-h264-42e01f-mode1", "video-h264-64001f-mode0", "rtx-on", "rtx-off", "red-audio",
                 "fec-video", "dtx", "simulcast-2", "simulcast-3", "ext-transport-cc", "transport-cc-only",
                 "remb-only", "bundle-none", "bundle-max", "no-rtcp-mux", "datachannel-only", "audio-only",
                 "ipv6-only", "ice-tcp-only"):
        assert name in names


def test_edits_of_chromes_recorded_offer() -> None:
    """On the shipped Chrome offer: one codec kept with its RTX (by profile-level-id and mode),
    rtcp-fb and extmaps dropped as asked, BUNDLE removed, rtcp-mux removed."""
    chrome = load_offer_profile("chrome").sdp  # type: ignore[union-attr]
    variants = {v.name: v for v in load_variants()}
    sdp, notes = apply_variant(chrome, {**variants["video-h264-42e01f-mode1"].edits(), "rtx": True})
    video = parse_description(sdp).media[1]
    assert [(c.name, c.fmtp.get("profile-level-id"), c.fmtp.get("packetization-mode")) for c in video.codecs
            if c.role == "media"] == [("H264", "42e01f", "1")]
    assert [c.role for c in video.codecs] == ["media", "rtx"] and notes == []
    sdp, _ = apply_variant(chrome, variants["remb-only"].edits())
    described = parse_description(sdp)
    assert all("transport-cc" not in c.rtcp_fb for m in described.media for c in m.codecs)
    assert any("goog-remb" in c.rtcp_fb for c in described.media[1].codecs)
    assert not any("transport-wide-cc" in e.uri for m in described.media for e in m.extensions)
    sdp, _ = apply_variant(chrome, {**variants["bundle-none"].edits(), "rtcp_mux": False})
    described = parse_description(sdp)
    assert described.bundle_groups == [] and not any(m.rtcp_mux for m in described.media)
    sdp, notes = apply_variant(chrome, variants["video-h265"].edits())  # the shipped profiles lack H.265: added
    assert [c.name for c in parse_description(sdp).media[1].codecs] == ["H265"] and notes == []
    _, notes = apply_variant(chrome, {"codecs": {"video": ["MPV"]}})
    assert notes and "no codec matching MPV" in notes[0]


# -- against serve ---------------------------------------------------------------------------------
RESTRICTION_VARIANTS = ["audio-opus", "audio-pcmu", "audio-pcma", "audio-g722", "video-vp8", "video-h264-42e01f-mode1",
                        "rtx-on", "rtx-off", "datachannel-only", "audio-only"]


@pytest.mark.slow
def test_matrix_against_serve_shows_exactly_the_restriction(tmp_path: Path) -> None:
    with serving(free_port(), "--audio-codecs", "PCMU", "--video-codecs", "VP8", log=tmp_path / "serve.log") as url:
        out = run("matrix", url, *(a for v in RESTRICTION_VARIANTS for a in ("--variant", v)), "-o",
                  str(tmp_path / "m"), "--json", "--html", str(tmp_path / "m.html"))
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    rows = {row["variant"]: row for row in document["rows"]}
    assert verdicts(document) == {
        "audio-opus": "refused", "audio-pcmu": "accepted", "audio-pcma": "refused", "audio-g722": "refused",
        "video-vp8": "accepted", "video-h264-42e01f-mode1": "refused",
        "rtx-on": "dropped",  # VP8 answered, its RTX not: serve's list has no rtx
        "rtx-off": "accepted", "datachannel-only": "accepted", "audio-only": "accepted"}
    assert rows["audio-opus"]["http_status"] == 400 and rows["audio-pcmu"]["http_status"] == 201
    assert rows["video-vp8"]["answered"] == "audio PCMU; video VP8"
    assert rows["rtx-on"]["detail"] == "missing: RTX on video"
    for name in RESTRICTION_VARIANTS:  # a capture per variant, its offer edited as the variant says
        assert (tmp_path / "m" / f"{name}.jsonl").is_file()
    assert json.loads((tmp_path / "m" / "result.matrix.json").read_text())["rows"] == document["rows"]
    page = (tmp_path / "m.html").read_text()
    assert "video-h264-42e01f-mode1" in page and "<script" not in page


@pytest.mark.slow
def test_media_flows_and_matrix_diff_shows_a_dropped_codec(tmp_path: Path) -> None:
    port = free_port()
    picked = ["--variant", "video-vp8", "--variant", "video-h264-42e01f-mode1"]
    with serving(port, "--video-codecs", "VP8,H264", log=tmp_path / "a.log") as url:
        first = run("matrix", url, *picked, "--media", "--duration", "1", "-o", str(tmp_path / "a"), "--json")
    with serving(port, "--video-codecs", "H264", log=tmp_path / "b.log") as url:
        second = run("matrix", url, *picked, "-o", str(tmp_path / "b"), "--json")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    rows = {row["variant"]: row for row in json.loads(first.stdout)["rows"]}
    assert rows["video-vp8"]["media"].startswith("yes: ")  # a real session: RTP came back
    assert verdicts(json.loads(second.stdout)) == {"video-vp8": "refused", "video-h264-42e01f-mode1": "accepted"}
    a, b = tmp_path / "a" / "result.matrix.json", tmp_path / "b" / "result.matrix.json"
    out = run("diff", str(a), str(b), "--json", "--exit-code")
    assert out.returncode == 1
    changes = {(c["variant"], c["what"]): (c["a"], c["b"]) for c in json.loads(out.stdout)["changes"]}
    assert changes[("video-vp8", "verdict")] == ("accepted", "refused")
    assert changes[("video-vp8", "answered")] == ("audio Opus; video VP8", "")
    assert ("video-h264-42e01f-mode1", "verdict") not in changes
    assert run("diff", str(a), str(a), "--exit-code").returncode == 0


@pytest.mark.slow
def test_matrix_of_the_studys_service_reproduces_its_profile(tmp_path: Path) -> None:
    """serve --answer-profile openai-2025-09 answers as the recorded service did (DESIGN.md §1: Opus
    with PCMU/PCMA fallback, no RED; H.264 only, all profiles, no RTX, no simulcast; transport-cc,
    no REMB): the matrix finds that table by trying, not by reading it."""
    expected = {"audio-opus": "accepted", "audio-pcma": "accepted", "red-audio": "dropped", "video-vp8": "refused",
                "video-h264-42e01f-mode1": "accepted", "video-h264-64001f-mode1": "accepted", "rtx-on": "dropped",
                "simulcast-2": "dropped", "transport-cc-only": "accepted", "remb-only": "dropped",
                "ext-transport-cc": "accepted", "ext-abs-send-time": "dropped"}
    with serving(free_port(), "--answer-profile", "openai-2025-09", log=tmp_path / "serve.log") as url:
        out = run("matrix", url, *(a for v in expected for a in ("--variant", v)), "-o", str(tmp_path / "m"), "--json")
    assert out.returncode == 0, out.stderr
    document = json.loads(out.stdout)
    assert verdicts(document) == expected
    rows = {row["variant"]: row for row in document["rows"]}
    assert rows["video-h264-64001f-mode1"]["answered"].startswith("audio Opus; video H.264 high")
    assert rows["remb-only"]["detail"] == "missing: rtcp-fb goog-remb"

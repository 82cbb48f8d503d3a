"""Hostile SDP: versions other than 0, ports out of range, malformed candidate addresses, and sizes
that are legal but huge (linear analysis, a documented limit, one line beyond it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hostile import run_cli

from rtcprobe.limits import MAX_SDP_LINES
from rtcprobe.sdp import SdpError, parse_candidate, parse_description

OFFER = (Path(__file__).resolve().parent / "data" / "chromium-offer.sdp").read_text()


def with_lines(extra: list[str], base: str = OFFER) -> str:
    return base.rstrip("\r\n") + "\r\n" + "\r\n".join(extra) + "\r\n"


@pytest.mark.parametrize("first", ["v=1", "v=0BBBB", "v=", "v=00"])
def test_sdp_version_other_than_0_is_an_error(first: str) -> None:
    with pytest.raises(SdpError, match=r":1: unsupported SDP version"):
        parse_description(OFFER.replace("v=0", first, 1), "x.sdp")


@pytest.mark.parametrize(("line", "message"), [
    ("a=rtcp:70000 IN IP4 0.0.0.0", "a=rtcp port must be 0..65535, got 70000"),
    ("a=rtcp:-9 IN IP4 0.0.0.0", "a=rtcp port must be 0..65535, got -9"),
    ("a=sctp-port:65536", "a=sctp-port port must be 0..65535"),
    ("a=candidate:1 1 udp 2122260223 10.0.0.1 65536 typ host", "port must be 0..65535, got 65536"),
    ("a=candidate:1 1 udp 2122260223 10.0.0.1 -1 typ host", "port must be 0..65535, got -1"),
])
def test_out_of_range_ports_name_their_line(line: str, message: str) -> None:
    text = with_lines([line])
    number = text.count("\n")
    with pytest.raises(SdpError, match=f":{number}: ") as raised:
        parse_description(text, "x.sdp")
    assert message in str(raised.value)


@pytest.mark.parametrize(("candidate", "anomaly"), [
    ("candidate:1 1 udp 1 2001:db8::zz 5000 typ host", "address '2001:db8::zz' is not a valid IPv6 address"),
    ("candidate:1 1 udp 1 fe80:::1 5000 typ host", "is not a valid IPv6 address"),
    ("candidate:1 1 udp 1 [::1] 5000 typ host", "is not a valid IPv6 address"),
    ("candidate:1 1 udp 1 10.0.0.256 5000 typ host", "is not a valid IPv4 address"),
    ("candidate:1 1 udp 1 10.0.0.1 5000 typ srflx raddr ::g rport 0", "raddr '::g' is not a valid IPv6"),
    ("candidate:1 1 udp 1 10.0.0.1 5000 typ srflx raddr 0.0.0.0 rport 70000", "rport 70000 is outside 0..65535"),
])
def test_malformed_addresses_are_candidate_anomalies(candidate: str, anomaly: str) -> None:
    """Kept, like every candidate anomaly (the file is still read), but shown to the reader."""
    assert any(anomaly in a for a in parse_candidate(candidate).anomalies)


@pytest.mark.parametrize("candidate", [
    "candidate:1 1 udp 1 ::1 5000 typ host", "candidate:1 1 udp 1 fe80::1%eth0 5000 typ host",
    "candidate:1 1 udp 1 ::ffff:10.0.0.1 5000 typ host", "candidate:1 1 udp 1 a1b2.local 5000 typ host",
    "candidate:1 1 udp 1 turn.example.com 5000 typ relay raddr 10.0.0.1 rport 9",
])
def test_wellformed_addresses_have_no_anomaly(candidate: str) -> None:
    assert parse_candidate(candidate).anomalies == []


def candidates(n: int) -> list[str]:
    return [f"a=candidate:{i} 1 udp 2122260223 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255} {1024 + i % 60000} typ host"
            for i in range(n)]


def test_sdp_past_the_line_limit_is_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "huge.sdp"
    path.write_text(with_lines(candidates(MAX_SDP_LINES)))
    run = run_cli("analyze", str(path))
    assert run.status == 2 and "Traceback" not in run.stderr and run.stderr.count("\n") == 1, run.stderr
    assert str(path) in run.stderr and "too large for a session description" in run.stderr


@pytest.mark.parametrize("kind", ["candidates", "attributes"])
def test_large_sdp_within_the_limit_is_analyzed(tmp_path: Path, kind: str) -> None:
    """Candidate or attribute lines up to the limit: analyzed whole under the memory limit (the hang
    guard is not a speed assertion; bench/sdp_scale.py measures the speed)."""
    n = MAX_SDP_LINES - 200
    extra = candidates(n) if kind == "candidates" else [f"a=x-attr{i}:value {i}" for i in range(n)]
    path = tmp_path / "large.sdp"
    path.write_text(with_lines(extra))
    run = run_cli("analyze", "--json", str(path))
    (tmp_path / "base.sdp").write_text(OFFER)
    base = run_cli("analyze", "--json", str(tmp_path / "base.sdp"))
    assert run.status == 0, run.stderr[-500:]
    document = json.loads(run.stdout)
    if kind == "candidates":
        assert document["candidates"]["count"] == n + json.loads(base.stdout)["candidates"]["count"]
    else:
        assert len(document["unknown_attributes"]) == n + len(json.loads(base.stdout)["unknown_attributes"])


def test_a_description_in_json_nested_too_deep_is_an_sdp_error(tmp_path) -> None:
    """`rtcprobe.load_description` reads {"type","sdp"} JSON through the one JSON loader."""
    import pytest

    import rtcprobe

    path = tmp_path / "deep.json"
    path.write_text('{"sdp": ' + "[" * 5000 + "]" * 5000 + "}", encoding="utf-8")
    with pytest.raises(rtcprobe.sdp.SdpError, match="nested deeper"):
        rtcprobe.load_description(path)
